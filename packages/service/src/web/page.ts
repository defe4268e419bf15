import { createHash } from 'node:crypto'
import { WEB_PAGE, WEB_SCRIPT, WEB_STYLE } from '../gen/web-page.js'

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`

/**
 * The headers of `GET /`. The policy lets the page run its own inline script and style (by hash)
 * and talk to its own origin, nothing else: no other script, frame, form or image (but the empty
 * `data:` icon), so even a string that slipped past the page's escaping could not run.
 */
export const WEB_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': [
    "default-src 'none'",
    `script-src ${sha256(WEB_SCRIPT)}`,
    `style-src ${sha256(WEB_STYLE)}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
}

/** The page served on `/` (script and style inline: one request, nothing from elsewhere). */
export const WEB_PAGE_HTML = WEB_PAGE
