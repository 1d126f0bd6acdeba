import type { Observable } from 'rxjs'
import { AuthenticationError, ConnectionRefusedError, type IotPubSubError, NotAuthorizedError } from '../errors.js'
import type { Connack, Link, LinkFailure } from '../link/link.js'
import type { Endpoint, ResolvedOptions } from '../options/resolved-options.js'
import type { ProtocolVersion, Status } from '../status.js'
import { closeVerdict, type Diagnosis, type TransportVerdict } from './close-verdict.js'
import type { ConnectionListener } from './connection-listener.js'
import { CredentialsPolicy } from './credentials-policy.js'
import { errorFields, Log } from '../log/log.js'
import { ProtocolNegotiation } from './protocol-negotiation.js'
import { type NextAttempt, RetrySchedule } from './retry-schedule.js'
import type { LivenessProbe } from './liveness.js'
import { Broadcast } from '../rx/broadcast.js'

export type { ConnectionListener } from './connection-listener.js'

/**
 * How long a sign of life may take when the page comes back: a round trip, with room for a slow network and a
 * busy broker, yet well inside any keepalive, which would otherwise be what notices a dead connection.
 */
export const CHECK_TIMEOUT_MS = 3_000

type State =
  | { readonly type: 'opening' }
  | { readonly type: 'connected'; readonly since: number }
  | { readonly type: 'waiting'; readonly timer: ReturnType<typeof setTimeout> }
  | { readonly type: 'stopped' }

/**
 * The connection lifecycle: attempts, backoff, credentials, protocol negotiation, cluster nodes, and the one
 * state that every other part reads (`connected`, `epoch`). The link below it carries out each attempt; the
 * close diagnosis decides what a close means.
 */
export class Connection {
  /** The connection status; replays the current one, completes after `closed`. */
  readonly status$: Observable<Status>
  // A replay of one, not a BehaviorSubject: after `closed` it must still replay `closed` before completing.
  readonly #status = new Broadcast<Status>(true)
  #state: State = { type: 'opening' }
  readonly #protocol: ProtocolNegotiation
  readonly #credentials: CredentialsPolicy
  #failures: LinkFailure[] = []
  #accepted = false
  #ready = false
  readonly #schedule: RetrySchedule
  #epoch = 0
  /** Where the attempt under way goes when the credentials provider chose (its `url`, or headers of its own). */
  #attemptEndpoint: Endpoint | undefined
  /** A liveness check is under way (a second `check()` waits for its answer). */
  #checking = false
  /** The close under way was a failed liveness check: the next attempt goes at once, not after a backoff. */
  #retryAtOnce = false
  /** Settles once `stop()` has closed the link and told the listener. */
  #stopping: Promise<void> | undefined
  #assignedClientId: string | undefined

  readonly #options: ResolvedOptions
  readonly #link: Link & Partial<LivenessProbe>
  readonly #listener: ConnectionListener
  readonly #now: () => number
  readonly #log: Log
  /** The platform's reading of its transports' own failures (the Node entry's); none in browsers. */
  readonly #transportVerdict?: TransportVerdict

  constructor(
    options: ResolvedOptions,
    link: Link & Partial<LivenessProbe>,
    listener: ConnectionListener,
    now: () => number = Date.now,
    log: Log = Log.off,
    /** The platform's reading of its transports' own failures (the Node entry's); none in browsers. */
    transportVerdict?: TransportVerdict,
  ) {
    this.#options = options
    this.#link = link
    this.#listener = listener
    this.#now = now
    this.#log = log
    this.#transportVerdict = transportVerdict
    this.#protocol = new ProtocolNegotiation(options.protocolVersion)
    this.#schedule = new RetrySchedule(options.endpoints.length, options.reconnect)
    this.#credentials = new CredentialsPolicy({ username: options.username, password: options.password }, options.credentials)
    this.status$ = this.#status.value$
    this.#status.next({ type: 'connecting', url: this.url })
  }

  /** The `clientId` option, or (an empty one, MQTT 5) the identifier the broker assigned in its last CONNACK. */
  get clientId(): string {
    return this.#assignedClientId ?? this.#options.clientId
  }

  /** The broker URL in use, or the one the next attempt goes to. */
  get url(): string {
    return (this.#attemptEndpoint ?? this.#options.endpoints[this.#schedule.endpointIndex] ?? this.#options.endpoints[0])?.url as string
  }

  /** The SDK's own idea of the connection: accepted and not yet lost. */
  get connected(): boolean {
    return this.#state.type === 'connected'
  }

  /**
   * Accepted, and every part has heard of it: publishes and SUBSCRIBEs go to the link from now on (before, they
   * wait in the SDK, in order).
   */
  get writable(): boolean {
    return this.#ready && this.#state.type === 'connected'
  }

  get stopped(): boolean {
    return this.#state.type === 'stopped'
  }

  /**
   * The one count of connections every part keys its state to: it changes when an attempt starts (the link
   * tells that attempt's transport events from a late one's by it) and when an accepted connection closes
   * (an acknowledgement, SUBACK or probe answer that belongs to an earlier value is stale).
   */
  get epoch(): number {
    return this.#epoch
  }

  get protocolVersion(): ProtocolVersion {
    return this.#protocol.version
  }

  /** Starts the first attempt. */
  start(): void {
    void this.#open()
  }

  // --- what the link reports -------------------------------------------------------------------------------

  onConnected(connack: Connack): void {
    if (this.#state.type !== 'opening') return
    this.#accepted = true
    this.#schedule.accepted()
    this.#protocol.accepted()
    this.#credentials.accepted()
    this.#state = { type: 'connected', since: this.#now() }
    const assigned = connack.properties?.assignedClientIdentifier
    if (this.#options.clientId === '' && typeof assigned === 'string') this.#assignedClientId = assigned
    if (this.#log.enabled) {
      this.#log.info(
        'connack',
        { url: this.url, sessionPresent: connack.sessionPresent, protocolVersion: this.#protocol.version, properties: connack.properties },
        `connected to ${this.url} (MQTT ${this.#protocol.version === 5 ? '5' : '3.1.1'}, session ${connack.sessionPresent ? 'resumed' : 'new'})`,
      )
    }
    this.#status.next({ type: 'connected', url: this.url, sessionPresent: connack.sessionPresent, protocolVersion: this.#protocol.version })
    this.#listener.connected(connack, this.#protocol.version)
    // Only once every part has heard of the connection (and of its session) does what waited go out: a publish
    // made meanwhile (by a status$ observer) waits behind the ones queued before it.
    if (this.#state.type !== 'connected') return
    this.#ready = true
    this.#listener.ready()
  }

  /** The link can take publishes again; before `ready`, the publisher sends what waits on `ready` anyway. */
  onDrained(): void {
    if (this.writable) this.#listener.drained()
  }

  onFailed(failure: LinkFailure): void {
    this.#failures.push(failure)
  }

  onClosed(): void {
    const state = this.#state
    if (state.type === 'stopped' || state.type === 'waiting') return
    const wasConnected = state.type === 'connected'
    const lasted = wasConnected ? this.#now() - state.since : undefined
    const failures = this.#failures
    const accepted = this.#accepted
    this.#failures = []
    this.#accepted = this.#ready = false
    // Before the verdict, so that a publish the broker closed on is not counted as a silent close.
    const blamedPublish = this.#listener.blamePublish(failures, accepted)
    if (wasConnected) this.#epoch += 1
    const protocol = this.#protocol
    const diagnosis = closeVerdict(
      { failures, accepted, protocol: protocol.version, lasted, clientId: this.clientId, subscribesInFlight: this.#listener.subscribesInFlight(), blamedPublish },
      {
        autoProtocol: protocol.auto,
        spoke5: protocol.spoke5,
        silentCloses: this.#schedule.silentCloses,
        shortConnections: this.#schedule.shortConnections,
        credentialsMayChange: this.#credentials.mayChange,
        enhancedAuth: this.#options.auth !== undefined,
      },
      this.#transportVerdict,
    )
    if (diagnosis.error instanceof NotAuthorizedError) this.#credentials.refused()
    if (this.#log.enabled) {
      const refusal = failures.find((f) => f.type === 'refused')
      if (refusal) this.#log.warn('refused', { url: this.url, code: refusal.type === 'refused' ? refusal.code : undefined }, `${this.url} refused the connection: ${diagnosis.error.message}`)
      this.#log.warn(
        'closed',
        { url: this.url, accepted, lasted, failures: failures.map((f) => f.type), action: diagnosis.action, ...errorFields(diagnosis.error) },
        `${accepted ? 'the connection' : 'the attempt'} to ${this.url} ended: ${diagnosis.error.message} (${diagnosis.action === 'retry' ? `retry${diagnosis.delay === 'none' ? ' at once' : ''}` : diagnosis.action})`,
      )
    }
    if (wasConnected) this.#listener.lost()
    // A fatal error reaches the app as the closed status; one the client gets over, on errors$ as well.
    if (diagnosis.action === 'retry' && diagnosis.error instanceof AuthenticationError) this.#listener.error?.(diagnosis.error)
    this.#follow(diagnosis, accepted)
  }

  /** Closes the connection in use at once; the reconnect resends what is unacknowledged. */
  drop(): void {
    if (this.#state.type === 'connected') this.#link.drop()
  }

  /** Stops for good: no further attempt; the link sends DISCONNECT unless `force`. */
  stop(options: { force: boolean; timeout: number }, error?: IotPubSubError): Promise<void> {
    if (this.#state.type === 'stopped') {
      // Forced while a graceful close waits for the broker's: the socket closes now, and that close ends it.
      if (options.force && this.#stopping) this.#link.drop()
      return this.#stopping ?? Promise.resolve()
    }
    if (this.#state.type === 'waiting') clearTimeout(this.#state.timer)
    // A provider still thinking: its deadline must not keep the process alive.
    if (this.#state.type === 'opening') this.#credentials.cancel()
    const graceful = this.#state.type === 'connected' && !options.force
    this.#state = { type: 'stopped' }
    this.#stopping = this.#close(!graceful, options.timeout, error)
    return this.#stopping
  }

  /** The link's final close (a throw in it a rejection, as any close's failure), then the listener is told. */
  async #close(force: boolean, timeout: number, error: IotPubSubError | undefined): Promise<void> {
    await this.#link.close({ force, timeout })
    this.#finish(error)
  }

  // --- what the page reports (browsers: lib/lifecycle/page-lifecycle.ts) -------------------------------------

  /**
   * The network is back: what was learnt while it was gone says nothing about now, so a client waiting out a
   * backoff tries at once with the delays started over; a connected one checks its connection.
   */
  online(): void {
    if (this.#state.type === 'waiting') {
      this.#schedule.startOver()
      return this.#skipWait('the browser is online again', 'online')
    }
    this.check('online')
  }

  /**
   * The browser has lost the network: the connection is dropped now (what is unacknowledged is resent after
   * the reconnect) instead of being found dead by the keepalive a minute later. The next attempt still comes
   * with the backoff, not only on `online`: a browser can call itself offline while the broker is within reach
   * (a broker on this machine or the LAN, an adapter it does not count), and the client must not sit idle then.
   */
  offline(): void {
    if (this.#state.type !== 'connected') return
    this.#log.info('lifecycle', { url: this.url, page: 'offline' }, `the browser went offline: dropping the connection to ${this.url}`)
    this.#failures.push({ type: 'protocol', message: 'the browser went offline' })
    this.#link.drop()
  }

  /**
   * The page is back (visible again, resumed from a freeze, restored from the back-forward cache): a client
   * waiting out a backoff tries at once; a connected one asks the broker for a sign of life and reconnects
   * at once (no backoff) when none comes within {@link CHECK_TIMEOUT_MS}: a socket can look open after a sleep
   * while nothing answers on it.
   */
  check(reason: string): void {
    if (this.#state.type === 'waiting') return this.#skipWait(`the page is back (${reason})`, reason)
    if (this.#state.type !== 'connected' || this.#checking || !this.#link.probe) return
    const epoch = this.#epoch
    this.#checking = true
    this.#log.debug('lifecycle', { url: this.url, page: reason }, `the page is back (${reason}): checking the connection to ${this.url}`)
    this.#link.probe(CHECK_TIMEOUT_MS, (alive) => {
      this.#checking = false
      // An answer about a connection that has closed since is no news.
      if (alive || this.#epoch !== epoch || this.#state.type !== 'connected') return
      this.#log.info('lifecycle', { url: this.url, page: reason }, `no answer from ${this.url} within ${CHECK_TIMEOUT_MS} ms after the page came back: reconnecting`)
      this.#failures.push({ type: 'protocol', message: `the broker did not answer a PINGREQ within ${CHECK_TIMEOUT_MS} ms after the page came back (${reason})` })
      // The user is looking at the page now: the connection found dead is replaced at once.
      this.#retryAtOnce = true
      this.#link.drop()
    })
  }

  // ----------------------------------------------------------------------------------------------------------

  /** Ends a backoff wait now: the attempt it was waiting for starts at once. */
  #skipWait(reason: string, page: string): void {
    if (this.#state.type !== 'waiting') return
    clearTimeout(this.#state.timer)
    this.#log.info('lifecycle', { url: this.url, page, attempt: this.#schedule.attempt + 1 }, `${reason}: trying ${this.url} now instead of waiting out the backoff`)
    this.#state = { type: 'opening' }
    void this.#open()
  }

  #follow(diagnosis: Diagnosis, accepted: boolean): void {
    const atOnce = this.#retryAtOnce
    const { error } = diagnosis
    this.#retryAtOnce = false
    if (diagnosis.action === 'fatal') return this.#fail(error)
    if (diagnosis.action === 'fall-back') {
      this.#log.info('fallback', { url: this.url, protocolVersion: 4 }, `${this.url} does not speak MQTT 5: trying MQTT 3.1.1`)
      this.#protocol.fallBack(error instanceof ConnectionRefusedError ? 'refused' : 'silent')
      return this.#wait(0, error, false)
    }
    if (!accepted && this.#protocol.closedUnanswered()) this.#schedule.accepted()
    this.#next(this.#schedule.afterClose(diagnosis, atOnce), error)
  }

  /** Waits out the backoff before the next attempt; a client that does not reconnect ends instead. */
  #backOff(error: IotPubSubError): void {
    this.#next(this.#schedule.backOff(), error)
  }

  #next(step: NextAttempt, error: IotPubSubError): void {
    if (step.type === 'end') this.#fail(error)
    else this.#wait(step.delay, error, step.report)
  }

  #wait(delay: number, error: IotPubSubError, report: boolean): void {
    const timer = setTimeout(() => {
      this.#state = { type: 'opening' }
      void this.#open()
    }, delay)
    this.#state = { type: 'waiting', timer }
    if (!report) return
    const { url } = this
    const attempt = Math.max(this.#schedule.attempt, 1)
    this.#log.info('reconnecting', { url, attempt, delay }, `next attempt to ${url} in ${delay} ms`)
    this.#status.next({ type: 'reconnecting', url, attempt, delay, error })
  }

  /** One attempt: the credentials first (a provider may take its time, or fail), then the link. */
  async #open(): Promise<void> {
    let username = this.#options.username
    let password = this.#options.password
    let endpoint = this.#options.endpoints[this.#schedule.endpointIndex] ?? (this.#options.endpoints[0] as NonNullable<ResolvedOptions['endpoints'][0]>)
    this.#attemptEndpoint = undefined
    if (this.#credentials.dynamic) {
      try {
        ;({ username, password, endpoint = endpoint } = await this.#credentials.next(endpoint, this.#options.connectTimeout))
      } catch (error) {
        if (this.#state.type !== 'opening') return
        // A provider that failed: back off, ask again. What this client cannot do at all (headers in a
        // browser): no retry can fix it.
        return error instanceof ConnectionRefusedError ? this.#backOff(error) : this.#fail(error as IotPubSubError)
      }
      // end() while the provider was thinking: no connection is opened.
      if (this.#state.type !== 'opening') return
      // A URL of the provider's own names the attempt; without one, `url` names the node, as without a provider.
      if (endpoint.url !== this.#options.endpoints[this.#schedule.endpointIndex]?.url) this.#attemptEndpoint = endpoint
    }
    this.#log.info(
      'attempt',
      { url: endpoint.url, attempt: this.#schedule.attempt + 1, protocolVersion: this.#protocol.version, username },
      `connecting to ${endpoint.url} (MQTT ${this.#protocol.version === 5 ? '5' : '3.1.1'}${username === undefined ? '' : `, as ${JSON.stringify(username)}`})`,
    )
    this.#epoch += 1
    this.#link.open({ endpoint, protocolVersion: this.#protocol.version, username, password, epoch: this.#epoch })
  }

  /** Ends the client after an error that retrying cannot fix. */
  #fail(error: IotPubSubError): void {
    this.#state = { type: 'stopped' }
    void this.#link.close({ force: true, timeout: 0 })
    this.#finish(error)
  }

  #finish(error: IotPubSubError | undefined): void {
    if (error) this.#log.error('stopped', errorFields(error), `stopped for good: ${error.message}`)
    else this.#log.info('stopped', {}, 'ended')
    this.#listener.stopped(error)
    this.#status.next({ type: 'closed', error })
    this.#status.complete()
  }
}
