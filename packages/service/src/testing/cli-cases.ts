/**
 * Command lines every Shoal service must refuse with exit code 2, naming the flag: each app's CLI
 * test runs them against its built binary, so the contract is written once.
 */
export interface ConfigErrorCase {
  readonly args: readonly string[]
  /** The flag the message must name. */
  readonly flag: string
  /** What the first stderr line must match, after `<command>: `. */
  readonly message: RegExp
}

export const COMMON_CONFIG_ERROR_CASES: readonly ConfigErrorCase[] = [
  {
    args: ['--port', '70000'],
    flag: '--port',
    message: /^invalid --port 70000: expected an integer 1-65535$/,
  },
  { args: ['--ttl', '300'], flag: '--ttl', message: /^invalid --ttl 300: expected an integer 0-255$/ },
  {
    args: ['--interface', 'nosuch0'],
    flag: '--interface',
    message: /^invalid --interface nosuch0: no such interface on this host/,
  },
  {
    args: ['--config', '/nonexistent.json'],
    flag: '--config',
    message: /^cannot read --config \/nonexistent\.json: no such file$/,
  },
  {
    args: ['--log-level', 'loud'],
    flag: '--log-level',
    message: /^invalid --log-level loud: expected one of fatal, error, warn, info, debug, trace, silent$/,
  },
  {
    args: ['--http', '65536'],
    flag: '--http',
    message: /^invalid --http 65536: expected an integer 0-65535$/,
  },
  { args: ['--http-host', 'anywhere'], flag: '--http-host', message: /^invalid --http-host anywhere: / },
  { args: ['--no-such-flag'], flag: '--no-such-flag', message: /^unknown flag --no-such-flag/ },
  { args: ['--port'], flag: '--port', message: /^--port needs a value/ },
]

/** The same, for services that join multicast groups with `--group`. */
export const GROUP_CONFIG_ERROR_CASES: readonly ConfigErrorCase[] = [
  {
    args: ['--group', '10.0.0.1'],
    flag: '--group',
    message: /^invalid --group 10\.0\.0\.1: not a multicast address; expected IPv4 224\.0\.0\.0\/4/,
  },
]
