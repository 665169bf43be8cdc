// Resource type numbers (TS-0004 §6.3.4.2.1 m2m:resourceType) for the types Warden implements.
export const RESOURCE_TYPE = {
  accessControlPolicy: 1,
  AE: 2,
  container: 3,
  contentInstance: 4,
  CSEBase: 5,
  group: 9,
  mgmtObj: 13,
  node: 14,
  pollingChannel: 15,
  request: 17,
  subscription: 23,
  semanticDescriptor: 24,
  flexContainer: 28,
  timeSeries: 29,
  timeSeriesInstance: 30,
  flexContainerInstance: 58,
} as const;
