/**
 * Control characters in text that came from the network (topics, source ids, receiver names,
 * string fields of messages, datagrams), made visible before the text reaches a terminal or a log.
 *
 * A terminal acts on them instead of showing them: ESC starts sequences that clear the screen,
 * retitle the window, move the cursor or, in some terminals, write files; BEL rings; CR and the
 * C1 controls (U+0080–U+009F, CSI among them) do the same in other forms. The Unicode bidirectional
 * formatting characters reorder what is shown, so a line can read differently from what it holds
 * ("Trojan Source", CVE-2021-42574); the line and paragraph separators break a line in some
 * renderers.
 */

/**
 * What {@link escapeControls} replaces: C0 controls (U+0000–U+001F, tab, CR and LF among them),
 * DEL, C1 controls (U+0080–U+009F), the bidirectional marks, embeddings, overrides and isolates
 * (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) and U+2028, U+2029. Matches one.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/
const ALL_CONTROLS = new RegExp(CONTROL_CHARACTER.source, 'g')

/** The same characters but C0, which JSON.stringify already escapes inside strings. */
const NOT_ESCAPED_BY_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g

/**
 * `text` with every control character of {@link CONTROL_CHARACTER} written as an escape: `\x1b`
 * for ESC, `\x07` for BEL, `\x0a` for a line feed, `\u202e` for RIGHT-TO-LEFT OVERRIDE. Anything
 * else, printable Unicode and backslashes included, is left as it is. Text without control
 * characters comes back unchanged (the same string).
 */
export function escapeControls(text: string): string {
  return text.replace(ALL_CONTROLS, escapeOne)
}

/**
 * A JSON text with the control characters JSON.stringify leaves raw (DEL, C1, bidirectional
 * formatting, line and paragraph separators) written as `\u` escapes. Only for JSON: inside
 * strings the escapes parse back to the same characters, and outside strings those characters
 * cannot occur.
 */
export function escapeJsonControls(json: string): string {
  return json.replace(NOT_ESCAPED_BY_JSON, jsonEscape)
}

function escapeOne(char: string): string {
  const code = char.charCodeAt(0)
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : jsonEscape(char)
}

function jsonEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
}
