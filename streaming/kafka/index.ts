/** Kafka for streaming/: the client interfaces and their kafkajs adapter. */
export * from './client.ts';
