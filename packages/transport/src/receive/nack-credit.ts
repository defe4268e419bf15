/**
 * What a receiver may ask a sender address for: NACK bytes it earns as a share of the repairable
 * bytes it received from there (see {@link NACK_CREDIT_FRACTION}). A stranger's datagram declaring
 * a huge message, or a made-up stream with a gap of 65,535 frames, never turns into megabytes of
 * NACKs: what is asked of an address is bounded by what came from it.
 */

/**
 * NACK bytes a receiver may send to a sender address: it earns this share of the bytes of
 * repairable datagrams it received from there (a real stream's repair costs about 1/16 of the
 * bytes lost, so this leaves room for losing most of a stream). A NACK it has no credit for is not
 * sent (counted: `nacksSuppressed`).
 */
export const NACK_CREDIT_FRACTION = 1 / 4
/** Credit saved up per sender address, at most, bytes. */
export const NACK_CREDIT_MAX_BYTES = 4 * 1024 * 1024
/** Sender addresses whose credit is tracked; the least recently heard is forgotten first. */
export const MAX_NACK_SOURCES = 256

interface Account {
  credit: number
}

export class NackCredit {
  /** Credit by sender address (insertion order: least recently heard first). */
  readonly #accounts = new Map<string, Account>()
  /** The address last credited: a stream's frames come from one, so most earns skip the map. */
  #lastAddress: string | undefined
  #last: Account | undefined

  /** Credits `address` with its share of a repairable datagram of `bytes` just received. */
  earn(address: string, bytes: number): void {
    let account = this.#last
    if (address !== this.#lastAddress || account === undefined) {
      const accounts = this.#accounts
      account = accounts.get(address)
      if (account === undefined) {
        if (accounts.size >= MAX_NACK_SOURCES) {
          const oldest = accounts.keys().next().value!
          accounts.delete(oldest)
          if (oldest === this.#lastAddress) this.#last = undefined
        }
        account = { credit: 0 }
      } else accounts.delete(address)
      accounts.set(address, account)
      this.#lastAddress = address
      this.#last = account
    }
    account.credit = Math.min(NACK_CREDIT_MAX_BYTES, account.credit + bytes * NACK_CREDIT_FRACTION)
  }

  /** Takes `bytes` of `address`'s credit; false (nothing taken) when it has not that much. */
  spend(address: string, bytes: number): boolean {
    const account = address === this.#lastAddress ? this.#last : this.#accounts.get(address)
    if (account === undefined || account.credit < bytes) return false
    account.credit -= bytes
    return true
  }
}
