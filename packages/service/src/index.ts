export {
  commonFlags,
  modeFlags,
  networkFlags,
  serviceFlags,
  TRANSPORT_MODES,
  type TransportMode,
} from './common-flags.js'
export {
  CONFIG_FLAG,
  type ConfigInput,
  type ConfigOutcome,
  type LoadedConfig,
  parseConfig,
} from './config.js'
export { CONTROL_CHARACTER, escapeControls, escapeJsonControls } from './control-chars.js'
export {
  type CommandResult,
  checkTarget,
  type DoctorCheck,
  type DoctorEnv,
  type DoctorTarget,
  formatCheck,
  type Probe,
  RMEM_MAX_PATH,
  runDoctor,
  SELF_TEST_TIMEOUT_MS,
  SELF_TEST_TOPIC,
  systemEnv,
} from './doctor/index.js'
export {
  CONFIG_EXIT_CODE,
  ConfigError,
  type ConfigErrorCode,
  type ConfigErrorOptions,
  conflict,
  invalidValue,
  isConfigError,
} from './errors.js'
export {
  type BooleanFlag,
  type CamelCase,
  type ConfigSource,
  defineFlags,
  envName,
  type FlagSources,
  type FlagSpec,
  type FlagTable,
  type FlagValue,
  type FlagValues,
  flag,
  type ListFlag,
  type ValueFlag,
  type ValueSchema,
} from './flags.js'
export { createHealth, type Health, type HealthStatus } from './health.js'
export { flagSignature, type HelpInfo, renderFlagsMarkdown, renderHelp } from './help.js'
export { type HttpServerHandle, type HttpServerOptions, startHttpServer } from './http.js'
export {
  createLogger,
  LOG_LEVELS,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  type LogSink,
} from './logger.js'
export {
  DEFAULT_METRICS_STREAMS,
  type FlowStatsLike,
  mergeTransportStats,
  OTHER_STREAMS,
  registerBuildInfo,
  registerTransportMetrics,
  type StreamStatsLike,
  type StreamTableLike,
  type TransportMetricsOptions,
  type TransportStatsLike,
} from './metrics.js'
export {
  DEFAULT_STOP_TIMEOUT_MS,
  formatSummary,
  type OutputStream,
  runService,
  type ServiceContext,
  type ServiceDefinition,
  type ServiceHandle,
  type ServiceIo,
} from './run-service.js'
export {
  decimal,
  duration,
  type Endpoint,
  endpoint,
  formatDuration,
  formatSize,
  host,
  type InterfaceAddress,
  type InterfaceRef,
  type InterfaceTable,
  identifier,
  integer,
  interfaceAddress,
  ipAddress,
  isMulticastAddress,
  matchesTopic,
  multicastGroup,
  networkInterface,
  oneOf,
  port,
  size,
  text,
  topicFilter,
  ttl,
} from './validators.js'
