import type { Config } from '../core/config.ts';
import { StreamTopicsError } from '../core/errors.ts';
import {
  DeadLetter,
  EvaluatedDeal,
  NotificationRecord,
  Opportunity,
  ParsedDeal,
  RawDeal,
  type RecordDef,
} from '../schemas/index.ts';
import type { StreamAdmin, TopicSpec } from './kafka/client.ts';

export const STAGES = ['parse', 'price', 'evaluate', 'notify'] as const;
export type StageName = (typeof STAGES)[number];

export type TopicKey =
  | 'raw'
  | 'parsed'
  | 'evaluated'
  | 'opportunities'
  | 'notifications'
  | `dlq.${StageName}`;

export interface TopicDef {
  readonly key: TopicKey;
  /** Topic name without the environment prefix. */
  readonly name: string;
  readonly partitions: number;
  readonly retentionHours: number;
  /** Schema of every message value (validated on produce and on consume). */
  readonly record: RecordDef;
}

const DAY = 24;

/** The one topic config of the real-time path (production plan: process-flows.md §3). */
export const TOPIC_DEFAULTS: readonly TopicDef[] = [
  { key: 'raw', name: 'deals.raw', partitions: 6, retentionHours: 7 * DAY, record: RawDeal },
  { key: 'parsed', name: 'deals.parsed', partitions: 6, retentionHours: 30 * DAY, record: ParsedDeal },
  {
    key: 'evaluated',
    name: 'deals.evaluated',
    partitions: 6,
    retentionHours: 30 * DAY,
    record: EvaluatedDeal,
  },
  {
    key: 'opportunities',
    name: 'deals.opportunities',
    partitions: 6,
    retentionHours: 30 * DAY,
    record: Opportunity,
  },
  {
    key: 'notifications',
    name: 'notifications.outbound',
    partitions: 3,
    retentionHours: 3 * DAY,
    record: NotificationRecord,
  },
  ...(['parse', 'price', 'evaluate', 'notify'] as const).map(
    (stage): TopicDef => ({
      key: `dlq.${stage}`,
      name: `deals.dlq.${stage}`,
      partitions: 3,
      retentionHours: 30 * DAY,
      record: DeadLetter,
    }),
  ),
];

/** Resolved topics of one environment: prefixed names, config overrides applied. */
export class Topics {
  readonly defs: readonly TopicDef[];

  constructor(
    readonly prefix: string,
    overrides: Config['streaming']['topics'] = {},
  ) {
    this.defs = TOPIC_DEFAULTS.map((d) => {
      const o = overrides[d.key] ?? {};
      return {
        ...d,
        name: `${prefix}${d.name}`,
        partitions: o.partitions ?? d.partitions,
        retentionHours: o.retentionHours ?? d.retentionHours,
      };
    });
  }

  static of(config: Config): Topics {
    return new Topics(config.streaming.topicPrefix, config.streaming.topics);
  }

  def(key: TopicKey): TopicDef {
    const d = this.defs.find((x) => x.key === key);
    if (!d) throw new Error(`unknown topic ${key}`);
    return d;
  }

  name(key: TopicKey): string {
    return this.def(key).name;
  }

  byName(name: string): TopicDef | undefined {
    return this.defs.find((d) => d.name === name);
  }

  /** Consumer group of a stage. */
  group(stage: StageName): string {
    return `${this.prefix}dealfinder.${stage}`;
  }
}

export function topicSpec(def: TopicDef): TopicSpec {
  return {
    name: def.name,
    partitions: def.partitions,
    configs: {
      'retention.ms': String(Math.round(def.retentionHours * 3_600_000)),
      'cleanup.policy': 'delete',
    },
  };
}

export interface TopicReportRow {
  readonly topic: string;
  readonly status: 'created' | 'ok' | 'fixed' | 'mismatch';
  readonly partitions: { wanted: number; actual: number };
  readonly retentionHours: { wanted: number; actual: number | null };
  readonly problems: readonly string[];
}

/**
 * Creates the missing topics and checks the existing ones against the config. With `fix`,
 * raises partition counts (Kafka cannot lower them) and sets retention; otherwise mismatches
 * are reported (and thrown with `strict`).
 */
export async function ensureTopics(
  admin: StreamAdmin,
  topics: Topics,
  options: { fix?: boolean; strict?: boolean } = {},
): Promise<TopicReportRow[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.defs.filter((d) => !existing.has(d.name));
  if (missing.length > 0) await admin.createTopics(missing.map(topicSpec));
  const states = await admin.describeTopics(topics.defs.map((d) => d.name));
  const rows: TopicReportRow[] = [];
  for (const def of topics.defs) {
    const state = states.find((s) => s.name === def.name);
    const actualRetention = state?.configs['retention.ms']
      ? Number(state.configs['retention.ms']) / 3_600_000
      : null;
    const actualPartitions = state?.partitions ?? 0;
    const problems: string[] = [];
    if (actualPartitions < def.partitions)
      problems.push(`${def.name}: ${actualPartitions} partitions, config wants ${def.partitions}`);
    if (actualRetention === null || Math.abs(actualRetention - def.retentionHours) > 1e-6)
      problems.push(
        `${def.name}: retention ${actualRetention ?? '?'} h, config wants ${def.retentionHours} h`,
      );
    let status: TopicReportRow['status'] = missing.includes(def) ? 'created' : 'ok';
    if (problems.length > 0 && options.fix) {
      if (actualPartitions < def.partitions) await admin.createPartitions(def.name, def.partitions);
      await admin.alterTopicConfigs(def.name, topicSpec(def).configs);
      status = 'fixed';
    } else if (problems.length > 0) {
      status = 'mismatch';
    }
    rows.push({
      topic: def.name,
      status,
      partitions: { wanted: def.partitions, actual: status === 'fixed' ? def.partitions : actualPartitions },
      retentionHours: {
        wanted: def.retentionHours,
        actual: status === 'fixed' ? def.retentionHours : actualRetention,
      },
      problems,
    });
  }
  const bad = rows.filter((r) => r.status === 'mismatch');
  if (options.strict && bad.length > 0) throw new StreamTopicsError(bad.flatMap((r) => r.problems));
  return rows;
}
