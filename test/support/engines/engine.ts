import type { ClientOptions, MQTTClient, QoS } from '../../../lib/node.js'

export type EngineName = 'Mosquitto' | 'RabbitMQ' | 'NATS'

/**
 * Everything in which an engine differs from another, as the tests measured it. The shared behaviour suite
 * asserts these (never skips on them), and test/engines/COMPATIBILITY.md is rendered from them.
 */
export interface EngineTraits {
  readonly name: EngineName
  /** The version the declarations were measured on (Debian packages of this machine). */
  readonly version: string
  /** What the tests start: the plugins or config blocks that give the engine MQTT. */
  readonly setup: string
  /** MQTT protocol levels the engine accepts. */
  readonly protocols: readonly (4 | 5)[]
  /** How the engine answers an MQTT 5 CONNECT. */
  readonly mqtt5Connect: 'accepted' | 'CONNACK 1 (unacceptable protocol version)' | 'closed without CONNACK'
  /** The path of MQTT over WebSockets (`''`: any path). */
  readonly wsPath: string
  /** The QoS granted for a subscription asked at QoS 0, 1 and 2. */
  readonly grantedQos: readonly [QoS, QoS, QoS]
  /** A second SUBSCRIBE of a filter at a higher QoS: replaces the first, or adds a second copy of every message. */
  readonly qosUpgrade: 'replaces the subscription' | 'adds a copy at the new QoS'
  /** Whether one publisher's messages to a subscriber keep their order when published at different QoS. */
  readonly orderAcrossQos: 'kept' | 'QoS 0 may overtake or lag QoS 1'
  /** What a QoS 2 publish does when the client sets no limit. */
  readonly publishQos2: 'exactly once (PUBREC, PUBCOMP)' | 'downgraded to QoS 1 (PUBACK)' | 'closes the connection'
  /**
   * Options every client on this engine is given: the known limits that the engine cannot announce under
   * MQTT 3.1.1 (`maxQos`).
   */
  readonly clientOptions: ClientOptions
  /** `split`: `$share/group/filter` members split the messages; `literal`: an ordinary filter that matches nothing. */
  readonly sharedSubscriptions: 'split' | 'literal'
  /** Which subscriptions are sent the stored retained messages. */
  readonly retained: 'all filters' | 'exact topic filters only'
  /** The order of the stored retained messages sent on subscribe. */
  readonly retainedOrder: 'publish order' | 'any order'
  /** Under MQTT 3.1.1, how many copies of a message a client gets when several of its filters match. */
  readonly overlappingFilters311: 'one per client' | 'one per matching filter'
  /** What the cluster test (test/engines/rabbitmq-cluster.test.ts) showed about failover, when there is one. */
  readonly cluster: string | undefined
  /** A publish the engine's ACL refuses and the MQTT 5 PUBACK reason code it gets; undefined when there are no reason codes. */
  readonly refusedPublish: { readonly topic: string; readonly reasonCode: number } | undefined
}

/** A started engine: its URLs and how to know a subscription is in place. */
export interface RunningEngine {
  readonly traits: EngineTraits
  readonly tcpUrl: string
  readonly wsUrl: string
  /** Milliseconds from spawn to the first MQTT CONNACK. */
  readonly startupMs: number
  /**
   * Resolves once the engine has `client`'s subscription to `filter` (at the QoS asked `qos`, when given)
   * in place: the SUBACK of the latest SUBSCRIBE for it (engine-neutral), and on Mosquitto also its log.
   */
  subscribed(client: MQTTClient, filter: string, qos?: QoS): Promise<void>
  /** Mosquitto only: its log, where SUBSCRIBE/UNSUBSCRIBE counts prove ref-counting from the broker's side. */
  readonly log?: () => Promise<string>
  readonly waitForLog?: (pattern: RegExp, ms?: number) => Promise<string>
  dispose(): Promise<void>
}

export interface EngineDefinition {
  readonly traits: EngineTraits
  /** True when the engine's binary is missing and this is not CI (loud local skip). */
  missing(): boolean
  start(): Promise<RunningEngine>
}

/** The protocol a default (`protocolVersion: 'auto'`) client ends up with. */
export const defaultProtocol = (traits: EngineTraits): 4 | 5 => (traits.protocols.includes(5) ? 5 : 4)
