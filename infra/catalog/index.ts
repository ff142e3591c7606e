export { CatalogStack, lowerKeys } from './catalog-stack.ts';
export type { CatalogStackProps } from './catalog-stack-props.ts';
