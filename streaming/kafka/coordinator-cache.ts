/**
 * A patch of kafkajs (2.2.x) through its private cluster factory: kafkajs looks the transaction
 * and group coordinators up again (a FindCoordinator round trip) before every
 * AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn, four extra round trips per
 * transaction. `cacheCoordinators` remembers the coordinator's node for a while.
 *
 * kafkajs keeps the factory under a private symbol (`Symbol('private:Kafka:createCluster')` in
 * kafkajs/src/index.js). Without it (another kafkajs version) nothing is patched and the client
 * works as kafkajs does; coordinator-cache.test.ts fails when the installed kafkajs changes it.
 */

/** The description of kafkajs' private cluster-factory symbol. */
export const CREATE_CLUSTER_SYMBOL = 'private:Kafka:createCluster';

/** The part of kafkajs' Cluster the cache needs. */
export interface CoordinatorLookup {
  findGroupCoordinator(args: { groupId: string; coordinatorType?: number }): Promise<{ nodeId: number }>;
  findBroker(args: { nodeId: number }): Promise<{ nodeId: number }>;
}

type ClusterFactory = (...args: unknown[]) => unknown;

function isFunction(value: unknown): value is ClusterFactory {
  return typeof value === 'function';
}

export function isCoordinatorLookup(value: unknown): value is CoordinatorLookup {
  return (
    typeof value === 'object' &&
    value !== null &&
    'findGroupCoordinator' in value &&
    typeof value.findGroupCoordinator === 'function' &&
    'findBroker' in value &&
    typeof value.findBroker === 'function'
  );
}

/** kafkajs' private cluster factory on a Kafka instance, or undefined when it is not there. */
export function clusterFactoryOf(kafka: object): { symbol: symbol; factory: ClusterFactory } | undefined {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === CREATE_CLUSTER_SYMBOL);
  if (!symbol) return undefined;
  const factory: unknown = Reflect.get(kafka, symbol);
  return isFunction(factory) ? { symbol, factory } : undefined;
}

/**
 * Remembers the coordinator's node per (type, group) for `ttlMs` (the broker connection is still
 * checked on every use); `clear()` forgets it, e.g. after a failed commit, so a moved coordinator
 * is found again.
 */
export function cacheCoordinators(cluster: CoordinatorLookup, ttlMs: number): { clear(): void } {
  const original = cluster.findGroupCoordinator.bind(cluster);
  const cache = new Map<string, { nodeId: number; at: number }>();
  cluster.findGroupCoordinator = async (args) => {
    const key = `${args.coordinatorType ?? 0}:${args.groupId}`;
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < ttlMs) {
      try {
        return await cluster.findBroker({ nodeId: hit.nodeId });
      } catch {
        cache.delete(key);
      }
    }
    const broker = await original(args);
    cache.set(key, { nodeId: broker.nodeId, at: Date.now() });
    return broker;
  };
  return { clear: () => cache.clear() };
}

/**
 * Runs `create` (a kafka.producer/consumer call) and hands the cluster object kafkajs makes for
 * it to `onCluster`. Without the private factory `onCluster` is simply not called.
 */
export function withClusterOf<T>(
  kafka: object,
  create: () => T,
  onCluster: (cluster: CoordinatorLookup) => void,
): T {
  const found = clusterFactoryOf(kafka);
  if (!found) return create();
  const { symbol, factory } = found;
  Reflect.set(kafka, symbol, (...args: unknown[]) => {
    const cluster = factory(...args);
    if (isCoordinatorLookup(cluster)) onCluster(cluster);
    return cluster;
  });
  try {
    return create();
  } finally {
    Reflect.set(kafka, symbol, factory);
  }
}
