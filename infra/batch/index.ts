export { BatchStack, EMR_SCOPE_TAG } from './batch-stack.ts';
export type { BatchStackProps } from './batch-stack-props.ts';
export { DEALCTL_ACTIONS, iamActionOf } from './dealctl-actions.ts';
