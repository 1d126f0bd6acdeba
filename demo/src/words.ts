/**
 * Plain words for what the SDK reports: the connection status badge and error messages next to forms.
 * Structural types (not imports) keep this module free of the SDK, so it is testable on its own.
 */

export type StatusLike =
  | { type: 'connecting' }
  | { type: 'connected'; sessionPresent?: boolean }
  | { type: 'reconnecting'; attempt: number; delay: number; error?: unknown }
  | { type: 'closed'; error?: unknown }

export type Tone = 'ok' | 'busy' | 'warn' | 'off'

export interface StatusView {
  /** Short text for the badge. */
  label: string
  /** A sentence for the tooltip / detail line. */
  detail: string
  tone: Tone
}

/** What the status badge shows for a `status$` value. */
export function describeStatus(status: StatusLike): StatusView {
  switch (status.type) {
    case 'connecting':
      return { label: 'Connecting…', detail: 'Opening the connection to the broker.', tone: 'busy' }
    case 'connected':
      return {
        label: 'Connected',
        detail: status.sessionPresent ? 'Connected; the broker resumed the previous session.' : 'Connected with a new session.',
        tone: 'ok',
      }
    case 'reconnecting': {
      const seconds = status.delay >= 1000 ? `${(status.delay / 1000).toFixed(1)} s` : `${Math.round(status.delay)} ms`
      const why = status.error === undefined ? '' : ` Last error: ${describeError(status.error)}`
      return { label: `Reconnecting (attempt ${status.attempt})`, detail: `Trying again in ${seconds}.${why}`, tone: 'warn' }
    }
    case 'closed':
      return status.error === undefined
        ? { label: 'Disconnected', detail: 'The connection is closed.', tone: 'off' }
        : { label: 'Closed', detail: describeError(status.error), tone: 'warn' }
  }
}

function errorName(error: unknown): string {
  return typeof error === 'object' && error !== null && typeof (error as { name?: unknown }).name === 'string' ? (error as Error).name : ''
}

function errorMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') return (error as Error).message
  return String(error)
}

/** One sentence a person can act on, for any error the SDK (or the browser) produces. */
export function describeError(error: unknown): string {
  const message = errorMessage(error)
  switch (errorName(error)) {
    case 'InvalidTopicError': {
      const reason = /: (.*)$/.exec(message)?.[1]
      return `That topic is not valid${reason ? `: ${reason}` : ''}.`.replace(/\.\.$/, '.')
    }
    case 'NotAuthorizedError':
      return 'The broker refused the username or password (not authorised).'
    case 'ConnectionRefusedError':
      return `The broker refused the connection: ${message}`
    case 'ConnectionLostError':
      return `The connection was lost: ${message}`
    case 'PublishError':
      return `The broker did not accept the message: ${message}`
    case 'PublishTimeoutError':
      return 'The broker did not confirm the message in time (is the connection up?).'
    case 'ClientClosedError':
      return 'Not connected: connect to a broker first.'
    case 'SubscriptionRejectedError':
      return `The broker refused the subscription: ${message}`
    case 'DecodeError':
      return `A message could not be decoded: ${message}`
    case 'UnsupportedOptionError':
      return `That setting does not work here: ${message}`
    default:
      return message
  }
}
