/**
 * What a service's Dockerfile does with its HTTP port, for the deploy tests: the host `/metrics`
 * and `/healthz` are served on (its CMD's `--http-host`), whether its health check reads them there,
 * and whether any line (comments aside) names every interface, `0.0.0.0`.
 */
export interface DockerfileHttp {
  readonly host: string | undefined
  readonly healthCheckOnLoopback: boolean
  readonly namesEveryInterface: boolean
}

export function dockerfileHttp(dockerfile: string): DockerfileHttp {
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[]
  const at = (flag: string) => (cmd.includes(flag) ? cmd[cmd.indexOf(flag) + 1] : undefined)
  return {
    host: at('--http-host'),
    healthCheckOnLoopback: dockerfile.includes(`fetch('http://127.0.0.1:${at('--http')}/healthz')`),
    namesEveryInterface: dockerfile
      .split('\n')
      .some((line) => !line.startsWith('#') && line.includes('0.0.0.0')),
  }
}
