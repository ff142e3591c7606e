export { INTERFACE_ENDPOINTS, type InterfaceEndpointName, NetworkStack } from './network-stack.ts';
export type { NetworkStackProps } from './network-stack-props.ts';
