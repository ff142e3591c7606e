export { LakeStack, rawPathOfLake } from './lake-stack.ts';
export type { LakeStackProps } from './lake-stack-props.ts';
