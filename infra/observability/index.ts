export { METRIC_NAMESPACE, ObservabilityStack } from './observability-stack.ts';
export type { ObservabilityStackProps } from './observability-stack-props.ts';
