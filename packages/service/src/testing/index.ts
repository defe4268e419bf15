/** Helpers for the services' tests; no test framework is imported here. */
export {
  type CliOptions,
  type CliResult,
  cleanEnv,
  type RunningCli,
  requireBuilt,
  runCli,
  startCli,
} from './cli.js'
export { COMMON_CONFIG_ERROR_CASES, type ConfigErrorCase, GROUP_CONFIG_ERROR_CASES } from './cli-cases.js'
export { type ConfigHarness, configHarness } from './config-harness.js'
export { type DockerfileHttp, dockerfileHttp } from './dockerfile.js'
export { type FakeDoctorEnvOptions, fakeDoctorEnv } from './doctor-env.js'
export { MemorySink } from './memory-sink.js'
export {
  type PromFamily,
  type PromSample,
  type PromType,
  parsePrometheusText,
  sampleValue,
} from './prom-text.js'
export { type GeneratedSection, syncGeneratedSection } from './readme.js'
export { hasSystemdAnalyze, type UnitVerification, verifySystemdUnit } from './systemd.js'
