// The messages that cross between the tabs sharing one connection, over BroadcastChannel (structured clone).
// Three channels per shared connection: `<group>:hub` (tabs → the hub), `<group>:all` (the hub → every tab)
// and `<group>:tab:<id>` (the hub → one tab).
import * as errors from '../errors.js'
import { IotPubSubError } from '../errors.js'
import type { MessageProperties, QoS } from '../message.js'
import type { OutboxState } from '../publish/outbox.js'
import type { PublishProperties } from '../options/client-options.js'
import type { Status } from '../status.js'
import type { SubscriptionInfo } from '../subscriptions/broker-subscription.js'

/** An observation a tab asks the hub for: its filter id in that tab, the filter and the QoS. */
export interface ObserveRequest {
  readonly id: number
  readonly filter: string
  readonly qos: QoS
}

/** A publish a tab hands to the hub, payload already encoded by the tab's codec. */
export interface PublishRequest {
  readonly id: number
  readonly topic: string
  readonly payload: Uint8Array | string
  readonly qos: QoS
  readonly retain: boolean
  readonly properties: PublishProperties | undefined
  /** QoS 1/2: the message's outbox id, the same to every hub it is handed to (a hub's store holding it sends it once). */
  readonly outboxId?: string
  /** When it expires, in ms since the epoch (tabs and hub share a clock). */
  readonly expiresAt?: number
  readonly collapse?: boolean
}

/** Tabs → the hub. `hello` carries a tab's whole state, so a new hub learns everything from one message. */
export type ToHub =
  | { readonly t: 'hello'; readonly tab: string; readonly observes: readonly ObserveRequest[]; readonly publishes: readonly PublishRequest[] }
  | { readonly t: 'observe'; readonly tab: string; readonly observe: ObserveRequest }
  | { readonly t: 'release'; readonly tab: string; readonly id: number }
  | { readonly t: 'publish'; readonly tab: string; readonly publish: PublishRequest }
  | { readonly t: 'cancel'; readonly tab: string; readonly id: number }
  | { readonly t: 'bye'; readonly tab: string }
  /** The tab's page came back (visible again, resumed): the holding tab checks the connection. */
  | { readonly t: 'check'; readonly tab: string; readonly reason: 'visible' | 'resume' | 'pageshow' }

/** One message for one of a tab's filters: [filter id, topic, payload, qos, retain, properties]. */
export type Delivery = readonly [number, string, Uint8Array, QoS, boolean, MessageProperties | undefined]

/** The hub's connection, as every tab needs it. */
export interface HubState {
  readonly hub: string
  readonly clientId: string
  readonly status: WireStatus
  readonly subscriptions: readonly SubscriptionInfo[]
}

/** The hub → every tab. `hub` announces a new hub: tabs answer with `hello`. */
export type ToAll =
  | { readonly t: 'hub'; readonly hub: string }
  | { readonly t: 'status'; readonly hub: string; readonly status: WireStatus }
  | { readonly t: 'subscriptions'; readonly hub: string; readonly subscriptions: readonly SubscriptionInfo[] }
  /** A message the hub's outbox holds that no open tab handed to it (restored from the store): every tab's outbox$ shows it. */
  | { readonly t: 'outbox'; readonly hub: string; readonly outboxId: string; readonly topic: string; readonly state: OutboxState }

/** The hub → one tab. */
export type ToTab =
  | ({ readonly t: 'welcome' } & HubState)
  | { readonly t: 'messages'; readonly hub: string; readonly batch: readonly Delivery[] }
  | { readonly t: 'failed'; readonly hub: string; readonly id: number; readonly error: WireError }
  | { readonly t: 'published'; readonly hub: string; readonly id: number; readonly error?: WireError }
  /** The hub's outbox reports one of this tab's publishes `queued` (durable in its store) or `sent`. */
  | { readonly t: 'outbox'; readonly hub: string; readonly id: number; readonly state: 'queued' | 'sent' }

/** An SDK error as plain data: structured clone keeps only the standard error names and drops own fields. */
export interface WireError {
  readonly name: string
  readonly message: string
  readonly fields: Readonly<Record<string, unknown>>
  readonly cause?: { readonly name: string; readonly message: string }
}

export type WireStatus =
  | Exclude<Status, { type: 'reconnecting' } | { type: 'closed' }>
  | (Omit<Extract<Status, { type: 'reconnecting' }>, 'error'> & { readonly error: WireError })
  | { readonly type: 'closed'; readonly error: WireError | undefined }

const ERROR_CLASSES: ReadonlyMap<string, typeof IotPubSubError> = new Map(
  Object.values(errors)
    .filter((value): value is typeof IotPubSubError => typeof value === 'function' && (value === IotPubSubError || value.prototype instanceof IotPubSubError))
    .map((type) => [new type('').name, type]),
)

export function toWireError(error: unknown): WireError {
  const source = error instanceof Error ? error : new Error(String(error))
  const fields: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(source)) {
    if (key !== 'name' && key !== 'cause' && isCloneable(value)) fields[key] = value
  }
  const cause = source.cause instanceof Error ? { name: source.cause.name, message: source.cause.message } : undefined
  return cause ? { name: source.name, message: source.message, fields, cause } : { name: source.name, message: source.message, fields }
}

/** The error again, of its own class (so `instanceof` works in every tab), with its fields. */
export function fromWireError(wire: WireError): IotPubSubError {
  const type = ERROR_CLASSES.get(wire.name) ?? IotPubSubError
  const error = Object.create(type.prototype) as IotPubSubError
  const cause = wire.cause ? Object.assign(new Error(wire.cause.message), { name: wire.cause.name }) : undefined
  Object.defineProperties(error, {
    message: { value: wire.message, writable: true, configurable: true },
    stack: { value: `${wire.name}: ${wire.message}`, writable: true, configurable: true },
  })
  Object.assign(error, { reasonCode: undefined, ...wire.fields, name: ERROR_CLASSES.has(wire.name) ? wire.name : 'IotPubSubError' })
  if (cause) Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true })
  return error
}

export function toWireStatus(status: Status): WireStatus {
  if (status.type === 'reconnecting') return { ...status, error: toWireError(status.error) }
  if (status.type === 'closed') return { type: 'closed', error: status.error ? toWireError(status.error) : undefined }
  return status
}

export function fromWireStatus(status: WireStatus): Status {
  if (status.type === 'reconnecting') return { ...status, error: fromWireError(status.error) }
  if (status.type === 'closed') return { type: 'closed', error: status.error ? fromWireError(status.error) : undefined }
  return status
}

function isCloneable(value: unknown): boolean {
  return value === undefined || value === null || ['string', 'number', 'boolean'].includes(typeof value) || value instanceof Uint8Array
}
