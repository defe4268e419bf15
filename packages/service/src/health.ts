export type HealthStatus = 'starting' | 'ready' | 'stopping'

/** What `/healthz` reports: 503 until the service is ready (bound and joined), 200 while it is. */
export interface Health {
  readonly status: HealthStatus
  /** The service is bound, joined and doing its work; `detail` joins the `/healthz` body. */
  markReady(detail?: Readonly<Record<string, unknown>>): void
  /** Shutting down: `/healthz` answers 503 again. */
  markStopping(): void
  /** The `/healthz` response. */
  report(): { readonly statusCode: 200 | 503; readonly body: Readonly<Record<string, unknown>> }
}

export function createHealth(info: { readonly service: string; readonly version: string }): Health {
  const started = Date.now()
  let status: HealthStatus = 'starting'
  let detail: Readonly<Record<string, unknown>> = {}
  return {
    get status() {
      return status
    },
    markReady(more = {}) {
      if (status === 'stopping') return
      status = 'ready'
      detail = more
    },
    markStopping() {
      status = 'stopping'
    },
    report() {
      return {
        statusCode: status === 'ready' ? 200 : 503,
        body: {
          ...detail,
          status,
          service: info.service,
          version: info.version,
          uptimeSeconds: Math.round((Date.now() - started) / 100) / 10,
        },
      }
    },
  }
}
