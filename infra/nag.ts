/**
 * cdk-nag (v3 API): the AwsSolutions rules run as a validation plugin of the app, and every finding
 * the design accepts is acknowledged where the resource is made, with its reason in code. With v3
 * an unacknowledged finding makes synth (and Template.fromStack) throw, so the stack tests are
 * the gate that keeps the count at zero.
 */

import type { App } from 'aws-cdk-lib';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

/**
 * Acknowledges one AwsSolutions rule on `scope` (and the constructs below it). `rule` is the rule
 * id (`S1`, `IAM5`); `finding` narrows IAM5-style findings to one resource or action
 * (`Action::s3:List*`, `Resource::arn:…/*`).
 */
export function acknowledge(scope: IConstruct, rule: string, reason: string, finding?: string): void {
  const id = `AwsSolutions::AwsSolutions-${rule}${finding ? `[${finding}]` : ''}`;
  Validations.of(scope).acknowledge({ id, reason });
}
