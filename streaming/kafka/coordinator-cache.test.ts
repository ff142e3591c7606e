/**
 * The coordinator cache patches the installed kafkajs through a private symbol. These tests use
 * the real kafkajs (no broker needed: creating a producer or consumer does not connect) and fail
 * when an upgrade removes the symbol or changes what its factory returns.
 */
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  type CoordinatorLookup,
  CREATE_CLUSTER_SYMBOL,
  cacheCoordinators,
  clusterFactoryOf,
  isCoordinatorLookup,
  withClusterOf,
} from './coordinator-cache.ts';

const { Kafka, logLevel } = kafkajs;
const newKafka = () =>
  new Kafka({ clientId: 'patch-test', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });

describe('kafkajs private cluster factory (the coordinator-cache patch depends on it)', () => {
  it('is still where the patch looks for it in the installed kafkajs', () => {
    const version: unknown = createRequire(import.meta.url)('kafkajs/package.json').version;
    const found = clusterFactoryOf(newKafka());
    expect(found, `kafkajs ${String(version)} has no ${CREATE_CLUSTER_SYMBOL} factory`).toBeDefined();
    expect(found?.symbol.description).toBe(CREATE_CLUSTER_SYMBOL);
  });

  it('builds clusters with the two methods the cache wraps, for producers and consumers alike', () => {
    const kafka = newKafka();
    const seen: CoordinatorLookup[] = [];
    const producer = withClusterOf(
      kafka,
      () => kafka.producer({ transactionalId: 'tx-1', idempotent: true, maxInFlightRequests: 1 }),
      (c) => seen.push(c),
    );
    const consumer = withClusterOf(
      kafka,
      () => kafka.consumer({ groupId: 'g-1' }),
      (c) => seen.push(c),
    );
    expect(producer).toBeDefined();
    expect(consumer).toBeDefined();
    expect(seen).toHaveLength(2);
    for (const cluster of seen) expect(isCoordinatorLookup(cluster)).toBe(true);
    // The factory is put back afterwards: later clients are not patched by accident.
    const after = clusterFactoryOf(kafka);
    expect(after && isCoordinatorLookup(after.factory({}))).toBe(true);
    let again = 0;
    kafka.producer();
    withClusterOf(
      kafka,
      () => undefined,
      () => again++,
    );
    expect(again).toBe(0);
  });
});

describe('cacheCoordinators', () => {
  it('answers repeated lookups from the cache, and asks again after clear() or a failed broker', async () => {
    let lookups = 0;
    let brokerUp = true;
    const cluster: CoordinatorLookup = {
      findGroupCoordinator: async () => {
        lookups++;
        return { nodeId: 7 };
      },
      findBroker: async ({ nodeId }) => {
        if (!brokerUp) throw new Error('broker gone');
        return { nodeId };
      },
    };
    const cache = cacheCoordinators(cluster, 60_000);
    for (let i = 0; i < 4; i++)
      expect(await cluster.findGroupCoordinator({ groupId: 'g', coordinatorType: 1 })).toEqual({ nodeId: 7 });
    expect(lookups).toBe(1);
    await cluster.findGroupCoordinator({ groupId: 'other', coordinatorType: 1 });
    expect(lookups).toBe(2);
    cache.clear();
    await cluster.findGroupCoordinator({ groupId: 'g', coordinatorType: 1 });
    expect(lookups).toBe(3);
    brokerUp = false;
    await cluster.findGroupCoordinator({ groupId: 'g', coordinatorType: 1 });
    expect(lookups).toBe(4);
  });
});
