import { AuthenticationError, ClientIdConflictError, ConnectionLostError, ConnectionRefusedError, type IotPubSubError, NotAuthorizedError } from '../errors.js'
import type { LinkFailure } from '../link/link.js'
import type { ProtocolVersion } from '../status.js'
import { classifyRefusal } from './refusal.js'

/** A connection that lasted this long resets the backoff; shorter ones keep counting attempts up. */
export const STABLE_CONNECTION_MS = 10_000
/** This many connections in a row closed by the broker soon after CONNACK, without a reason: a client-id conflict. */
export const TAKEOVER_THRESHOLD = 3
/** Closes before any CONNACK under MQTT 5, in a row, after which an 'auto' client tries MQTT 3.1.1. */
export const SILENT_CLOSES_BEFORE_FALLBACK = 2
const SESSION_TAKEN_OVER = 142
const BAD_AUTHENTICATION_METHOD = 140

/** What is known about a connection (or attempt) that just ended. */
export interface CloseFacts {
  /** What the link reported, in order. */
  readonly failures: readonly LinkFailure[]
  /** The attempt had a CONNACK accepting it. */
  readonly accepted: boolean
  readonly protocol: ProtocolVersion
  /** Milliseconds from CONNACK to close, when accepted. */
  readonly lasted: number | undefined
  readonly clientId: string
  /** Filters whose SUBSCRIBE awaited its SUBACK when the connection closed. */
  readonly subscribesInFlight: readonly string[]
  /** A publish was blamed for this close (see the publisher): the reconnect costs no backoff. */
  readonly blamedPublish: boolean
}

/** What the engine knows across connections that bears on the verdict. */
export interface CloseContext {
  readonly autoProtocol: boolean
  /** Some broker accepted an MQTT 5 CONNECT from this client: a close before CONNACK is then no protocol sign. */
  readonly spoke5: boolean
  /** Closes before CONNACK under MQTT 5 in a row, before this one. */
  readonly silentCloses: number
  /** Accepted connections closed soon after without a reason, in a row, before this one. */
  readonly shortConnections: number
  /** Refused credentials: whether a retry can bring other ones (a provider that returned new credentials). */
  readonly credentialsMayChange: boolean
  /** The client logs in with MQTT 5 enhanced authentication: a close before CONNACK may come amid its exchange. */
  readonly enhancedAuth?: boolean
}

/** What to do after a close, and why it happened. */
export type Diagnosis =
  | { readonly action: 'retry'; readonly error: IotPubSubError; readonly delay: 'backoff' | 'none'; readonly stable: boolean; readonly short: boolean; readonly silent: boolean }
  | { readonly action: 'fall-back'; readonly error: IotPubSubError }
  | { readonly action: 'fatal'; readonly error: IotPubSubError }

const retry = (error: IotPubSubError, more?: Partial<{ delay: 'backoff' | 'none'; stable: boolean; short: boolean; silent: boolean }>): Diagnosis => ({
  action: 'retry',
  error,
  delay: 'backoff',
  stable: false,
  short: false,
  silent: false,
  ...more,
})

/** What a platform's transport says one of its own failures means: the message, and whether no retry can help. */
export interface TransportFailure {
  readonly fatal: boolean
  readonly message: string
  /** The error to report, when a class of its own names the failure better. */
  readonly error?: IotPubSubError
  /** Refused credentials: retried while they may change (a provider), unless `fatal`. */
  readonly credentials?: boolean
}

/**
 * The platform's reading of the failures only its transports report (Node's: a port that speaks another
 * protocol than the URL's, a TLS certificate refused); undefined for any other. Passed in by the Node entry,
 * so that a browser app does not ship the wording of failures its WebSocket cannot have.
 */
export type TransportVerdict = (failure: LinkFailure) => TransportFailure | undefined

/**
 * Why a connection ended, and whether to retry (with or without backoff), fall back to MQTT 3.1.1, or stop.
 * Pure: everything it needs is passed in, so the whole table is tested without a broker. `transportVerdict`
 * reads the platform's own transport failures first; the whole table as Node has it is `diagnoseClose`
 * (lib/connection/close-diagnosis.ts).
 *
 * @example
 * ```ts
 * closeVerdict({ failures: [{ type: 'refused', code: 135, message: 'Not authorized' }], accepted: false, protocol: 5, ... }, context)
 * // { action: 'fatal', error: NotAuthorizedError }
 * ```
 */
export function closeVerdict(facts: CloseFacts, context: CloseContext, transportVerdict?: TransportVerdict): Diagnosis {
  const failure = telling(facts.failures)
  const stable = facts.lasted !== undefined && facts.lasted >= STABLE_CONNECTION_MS
  if (failure?.type === 'refused') return refused(failure, facts.protocol, context)
  const told = failure && transportVerdict?.(failure)
  if (told?.credentials && !told.fatal && context.credentialsMayChange) return retry(told.error ?? new NotAuthorizedError(told.message))
  if (told?.fatal || told?.credentials) return { action: 'fatal', error: told.error ?? new ConnectionRefusedError(told.message) }
  if (failure?.type === 'disconnect' && failure.code === SESSION_TAKEN_OVER) {
    return retry(new ClientIdConflictError(`another connection with client id ${JSON.stringify(facts.clientId)} took over the session (reason code 142)`, { reasonCode: failure.code }))
  }
  if (facts.blamedPublish) return retry(describe(failure, told) ?? new ConnectionLostError('the broker closed the connection after a publish it would not take'), { delay: 'none', stable })
  if (failure) return retry(describe(failure, told) as IotPubSubError, { stable })
  if (!facts.accepted) {
    const unanswered = 'the broker closed the connection before answering the CONNECT'
    // The broker may well have answered, with AUTH: the exchange broke off, and MQTT 5 is certain.
    if (context.enhancedAuth) return retry(new ConnectionLostError('the connection closed during the login (MQTT 5 enhanced authentication), before the broker\'s CONNACK'))
    if (facts.protocol === 5) {
      // Some brokers (RabbitMQ 3.10) close an MQTT 5 CONNECT without a CONNACK; so does a proxy in front of a
      // broker that is down, once in a while. Only a repeated silent close counts as "no MQTT 5 here".
      if (!context.autoProtocol) return retry(new ConnectionLostError(`${unanswered} (MQTT 5): if it speaks only MQTT 3.1.1 (RabbitMQ 3.10), use protocolVersion "auto" or 4`))
      if (!context.spoke5) {
        return context.silentCloses + 1 >= SILENT_CLOSES_BEFORE_FALLBACK
          ? { action: 'fall-back', error: new ConnectionLostError(`${unanswered}: trying MQTT 3.1.1`) }
          : retry(new ConnectionLostError(unanswered), { delay: 'none', silent: true })
      }
    }
    return retry(new ConnectionLostError(unanswered))
  }
  if (facts.subscribesInFlight.length > 0) {
    // Not a client-id conflict: some brokers (RabbitMQ) close the connection to refuse a subscription.
    const filters = facts.subscribesInFlight.map((f) => JSON.stringify(f)).join(', ')
    return retry(new ConnectionLostError(`the broker closed the connection while ${filters} awaited its SUBACK: it may refuse the subscription`), { stable })
  }
  // Accepted, then closed by the broker without a word, again and again: Mosquitto under 3.1.1 does exactly
  // this to two clients that share a client id.
  const closes = context.shortConnections + 1
  return retry(
    !stable && closes >= TAKEOVER_THRESHOLD
      ? new ClientIdConflictError(`the broker closed ${closes} connections in a row soon after accepting them: another client probably uses client id ${JSON.stringify(facts.clientId)}`)
      : new ConnectionLostError('the connection closed'),
    { stable, short: !stable },
  )
}

/** The account of a close that says most: a DISCONNECT or refusal before the socket error that follows it. */
function telling(failures: readonly LinkFailure[]): LinkFailure | undefined {
  const rank = (f: LinkFailure): number =>
    ({ refused: 0, auth: 0, disconnect: 1, 'wrong-transport': 1, keepalive: 2, 'connect-timeout': 2, 'websocket-handshake': 3, malformed: 3, socket: 4, protocol: 5 })[f.type]
  let best: LinkFailure | undefined
  for (const failure of failures) if (!best || rank(failure) < rank(best)) best = failure
  return best
}

function describe(failure: LinkFailure | undefined, told: TransportFailure | undefined): IotPubSubError | undefined {
  if (told) return told.error ?? new ConnectionLostError(told.message)
  switch (failure?.type) {
    case undefined:
    case 'refused':
      return undefined
    case 'disconnect':
      return new ConnectionLostError(`the broker disconnected the client (reason code ${failure.code}${failure.reason ? `: ${failure.reason}` : ''})`, { reasonCode: failure.code })
    case 'keepalive':
      return new ConnectionLostError('keepalive timeout: the broker sent nothing for 1.5 × keepalive (frozen, or the network dropped)')
    case 'connect-timeout':
      return new ConnectionLostError('the broker did not answer the CONNECT within connectTimeout')
    case 'malformed':
      return new ConnectionLostError(`the broker sent a packet that could not be parsed: ${failure.message}`)
    case 'socket':
      return new ConnectionLostError(failure.message, { cause: Object.assign(new Error(failure.message), { code: failure.code }) })
    case 'protocol':
      return new ConnectionLostError(failure.message)
    case 'auth':
      // Retried with the backoff: the next attempt authenticates afresh (a new token, a new nonce).
      return new AuthenticationError(failure.reauth ? failure.message : `enhanced authentication failed: ${failure.message}`)
    case 'wrong-transport':
      // Only Node's transports report one, and the Node entry's verdict words it (lib/connection/close-diagnosis.ts).
      return new ConnectionLostError(`${failure.url}: ${failure.detail}`)
    case 'websocket-handshake':
      // An HTTP status is the server's refusal; retried all the same: a proxy answers 404 or 502 while it reloads.
      return failure.status === undefined ? new ConnectionLostError(handshake(failure)) : new ConnectionRefusedError(handshake(failure))
  }
}

/** Where brokers serve MQTT over WebSockets, for the messages about a wrong path or transport. */
export const WS_PATHS = '/mqtt for NATS, EMQX and HiveMQ, /ws for RabbitMQ; Mosquitto takes any'
const CHECK_LISTENER = "is the broker's websockets listener at that address and path?"

function handshake(failure: Extract<LinkFailure, { type: 'websocket-handshake' }>): string {
  const { url, status, closeCode, detail } = failure
  if (status === 404) return `the WebSocket handshake with ${url} was refused with HTTP 404: nothing serves that path. Use the path of the broker's websockets listener (${WS_PATHS})`
  if (status !== undefined) return `the WebSocket handshake with ${url} was refused with HTTP ${status}: ${CHECK_LISTENER}`
  // Browsers: the close code (1006 for every handshake failure) and the reason are all a page is told.
  const certificate = url.startsWith('wss:') ? ' Does the browser trust its certificate?' : ''
  const browser = `The browser tells the page no more; its console shows the reason.${certificate}`
  if (closeCode !== undefined) return `the WebSocket to ${url} closed before the MQTT handshake (close code ${closeCode}${detail ? `: ${detail}` : ''}): ${CHECK_LISTENER} ${browser}`
  if (detail) return `the WebSocket handshake with ${url} failed (${detail}): ${CHECK_LISTENER}`
  return `the WebSocket to ${url} closed before it opened: ${CHECK_LISTENER} ${browser}`
}

function refused(failure: { code: number; message: string }, protocol: ProtocolVersion, context: CloseContext): Diagnosis {
  const { code, message } = failure
  const refusal = classifyRefusal(code, protocol)
  if (code === BAD_AUTHENTICATION_METHOD && protocol === 5) {
    return { action: 'fatal', error: new AuthenticationError(`${message} (code ${code}): the broker does not take the \`auth\` option's method`, { reasonCode: code }) }
  }
  if (refusal === 'unsupported-protocol' && context.autoProtocol) {
    return { action: 'fall-back', error: new ConnectionRefusedError(`${message} (code ${code}): trying MQTT 3.1.1`, { reasonCode: code }) }
  }
  if (refusal === 'credentials') {
    const error = new NotAuthorizedError(`${message} (code ${code}): check username and password`, { reasonCode: code })
    // With a credentials provider, a refusal is worth a retry as long as the provider has something new.
    return context.credentialsMayChange ? retry(error) : { action: 'fatal', error }
  }
  if (refusal === 'transient') return retry(new ConnectionRefusedError(`${message} (code ${code})`, { reasonCode: code }))
  return { action: 'fatal', error: new ConnectionRefusedError(`${message} (code ${code})`, { reasonCode: code }) }
}
