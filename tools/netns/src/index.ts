export {
  decideNetns,
  type NetnsCapability,
  netnsCapability,
  type RequireNetnsResult,
  requireNetns,
} from './capability.js'
export { cleanupStale, listRuns, removeRun } from './cleanup.js'
export { isNetnsError, NetnsError, type NetnsErrorCode } from './errors.js'
export type { RunOptions, RunResult } from './exec.js'
export type { Host, HostIface, NodeOptions, SpawnOptions } from './host.js'
export { type CreateOptions, createNetwork, type LossOptions, type Network, type Segment } from './network.js'
export {
  type HostPlan,
  type HostSpec,
  type IfacePlan,
  type NetworkPlan,
  planNetwork,
  type SegmentPlan,
  type SegmentSpec,
  type Topology,
} from './topology.js'
export { type ExitResult, type WatchedProcess, type WatchOptions, watchProcess } from './watch.js'
