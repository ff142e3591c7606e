/**
 * cdk-nag (v3 API): the AwsSolutions rules run as a validation plugin of the app, and every finding
 * the design accepts is acknowledged where the resource is made, with its reason in code. With v3
 * an unacknowledged finding makes synth (and Template.fromStack) throw, so the stack tests are
 * the gate that keeps the count at zero.
 *
 * With the context value `dealfinder:nagUnacknowledged=true` acknowledgements are recorded but
 * not applied, so synth reports every finding: `npm run infra -- nag` counts them before and
 * after, and a test checks that each acknowledgement answers a real finding (none stale).
 */
import type { App } from 'aws-cdk-lib';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export const NAG_UNACKNOWLEDGED_CONTEXT = 'dealfinder:nagUnacknowledged';

export interface Acknowledgement {
  /** Construct path the acknowledgement is made on (it covers the constructs below it too). */
  readonly path: string;
  /** `AwsSolutions-IAM5[Resource::…]` or `AwsSolutions-EC23`. */
  readonly rule: string;
  readonly reason: string;
}

const recorded = new WeakMap<IConstruct, Acknowledgement[]>();

export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

/** Every acknowledgement made in the app of `scope`. */
export function acknowledgementsOf(scope: IConstruct): readonly Acknowledgement[] {
  return recorded.get(scope.node.root) ?? [];
}

/**
 * Acknowledges one AwsSolutions rule on `scope` (and the constructs below it). `rule` is the rule
 * id (`S1`, `IAM5`); `finding` narrows IAM5-style findings to one resource or action
 * (`Action::s3:List*`, `Resource::arn:…/*`).
 */
export function acknowledge(scope: IConstruct, rule: string, reason: string, finding?: string): void {
  const ruleName = `AwsSolutions-${rule}${finding ? `[${finding}]` : ''}`;
  const list = recorded.get(scope.node.root) ?? [];
  list.push({ path: scope.node.path, rule: ruleName, reason });
  recorded.set(scope.node.root, list);
  const raw: unknown = scope.node.tryGetContext(NAG_UNACKNOWLEDGED_CONTEXT);
  if (raw === true || raw === 'true') return;
  Validations.of(scope).acknowledge({ id: `AwsSolutions::${ruleName}`, reason });
}

export interface NagFinding {
  readonly path: string;
  readonly rule: string;
}

/** The findings of a validation-report.json cdk-nag wrote at synth. */
export function findingsOfReport(report: unknown): NagFinding[] {
  const out: NagFinding[] = [];
  const plugins = (report as { pluginReports?: { violations?: unknown[] }[] }).pluginReports ?? [];
  for (const plugin of plugins) {
    for (const v of (plugin.violations ?? []) as {
      ruleName: string;
      violatingConstructs: { constructPath: string }[];
    }[]) {
      for (const c of v.violatingConstructs) out.push({ path: c.constructPath, rule: v.ruleName });
    }
  }
  return out;
}
