/** Entity references resolved by __resolveReference: the core subgraph owns these types. */
export interface TenantRef {
  id: string;
}
export interface ServiceRef {
  id: string;
}
