// The three engines the shared behaviour suite runs on, each difference declared once, here. Every value was
// measured by the tests that assert it (test/integration/behaviour.test.ts, test/engines/*.test.ts).
import type { MQTTClient, QoS } from '../../../lib/node.js'
import { missing } from '../binaries.js'
import { Mosquitto } from '../mosquitto.js'
import type { EngineDefinition, EngineTraits, RunningEngine } from './engine.js'
import { NatsServer } from './nats.js'
import { RabbitNode } from './rabbitmq.js'
import { wireOf } from './wire.js'


/** Engine-neutral: the SUBACK of the latest SUBSCRIBE for the filter (at the QoS asked, when given). */
async function subacked(client: MQTTClient, filter: string, qos?: QoS): Promise<void> {
  await wireOf(client).subacked(filter, qos)
}

export const mosquittoTraits: EngineTraits = {
  name: 'Mosquitto',
  version: '2.0.11',
  setup: "the project's mosquitto/mosquitto.conf (listeners 1883 and 9001)",
  protocols: [4, 5],
  mqtt5Connect: 'accepted',
  wsPath: '',
  grantedQos: [0, 1, 2],
  qosUpgrade: 'replaces the subscription',
  orderAcrossQos: 'kept',
  publishQos2: 'exactly once (PUBREC, PUBCOMP)',
  clientOptions: {},
  sharedSubscriptions: 'split',
  retained: 'all filters',
  retainedOrder: 'publish order',
  overlappingFilters311: 'one per client',
  cluster: undefined,
  // Configured by the suite's ACL file: anonymous clients may only read `readonly/#`.
  refusedPublish: { topic: 'readonly/x', reasonCode: 135 },
}

export const rabbitmqTraits: EngineTraits = {
  name: 'RabbitMQ',
  version: '3.10.8',
  setup: 'plugins rabbitmq_mqtt + rabbitmq_web_mqtt',
  protocols: [4],
  mqtt5Connect: 'closed without CONNACK',
  wsPath: '/ws',
  grantedQos: [0, 1, 1],
  qosUpgrade: 'adds a copy at the new QoS',
  orderAcrossQos: 'QoS 0 may overtake or lag QoS 1',
  publishQos2: 'downgraded to QoS 1 (PUBACK)',
  clientOptions: {},
  sharedSubscriptions: 'literal',
  retained: 'exact topic filters only',
  retainedOrder: 'publish order',
  overlappingFilters311: 'one per client',
  cluster:
    'two nodes joined with `join_cluster`; a client given both URLs fails over on its first reconnect attempt (measured 0.15–0.3 s after a SIGKILL, `initialDelay: 100`), provided the policy `ha-mode: all` mirrors its `mqtt-subscription-CLIENTID*` queues: then a persistent session (`clean: false`) loses nothing (duplicates possible) and a clean session loses only what was published between the loss and its new SUBACK. Unmirrored, the moved client cannot subscribe until its old node returns (node 2 closes the connection on SUBSCRIBE).',
  refusedPublish: undefined,
}

export const natsTraits: EngineTraits = {
  name: 'NATS',
  version: '2.9.10',
  setup: '`mqtt { listen }` + JetStream + `websocket { no_tls: true }`',
  protocols: [4],
  mqtt5Connect: 'CONNACK 1 (unacceptable protocol version)',
  wsPath: '/mqtt',
  grantedQos: [0, 1, 1],
  qosUpgrade: 'replaces the subscription',
  // Measured on the wire with three matching filters: `same same same same end same end same end`.
  orderAcrossQos: 'QoS 0 may overtake or lag QoS 1',
  publishQos2: 'closes the connection',
  // NATS cannot say so under 3.1.1, and a QoS 2 publish costs the connection: the SDK refuses it instead.
  clientOptions: { maxQos: 1 },
  sharedSubscriptions: 'literal',
  retained: 'all filters',
  retainedOrder: 'any order',
  overlappingFilters311: 'one per matching filter',
  cluster: undefined,
  refusedPublish: undefined,
}

export const mosquittoEngine: EngineDefinition = {
  traits: mosquittoTraits,
  missing: () => missing('mosquitto', 'Install it: apt-get install mosquitto mosquitto-clients'),
  async start(): Promise<RunningEngine> {
    const started = Date.now()
    const broker = await Mosquitto.start({
      persistence: false,
      extra: ['log_type all', 'acl_file /mosquitto/config/acl'],
      // Anonymous clients may use the test namespace and only read `readonly/#`: a denied publish under
      // MQTT 5 shows up as PUBACK reason code 135.
      files: { 'config/acl': 'topic readwrite iotpubsub-test/#\ntopic read readonly/#\n' },
    })
    const startupMs = Date.now() - started
    return {
      traits: mosquittoTraits,
      tcpUrl: broker.tcpUrl,
      wsUrl: broker.wsUrl,
      startupMs,
      async subscribed(client, filter, qos) {
        await subacked(client, filter, qos)
        await broker.waitForSubscription(client.clientId, filter, qos)
      },
      log: () => broker.log(),
      waitForLog: (pattern, ms) => broker.waitForLog(pattern, ms),
      dispose: () => broker.dispose(),
    }
  },
}

export const rabbitmqEngine: EngineDefinition = {
  traits: rabbitmqTraits,
  missing: () => missing('rabbitmq-server', 'Install it: apt-get install rabbitmq-server'),
  async start(): Promise<RunningEngine> {
    const node = await RabbitNode.start()
    return {
      traits: rabbitmqTraits,
      tcpUrl: node.tcpUrl,
      wsUrl: node.wsUrl,
      startupMs: node.startupMs,
      subscribed: subacked,
      dispose: () => node.dispose(),
    }
  },
}

export const natsEngine: EngineDefinition = {
  traits: natsTraits,
  missing: () => missing('nats-server', 'Install it: apt-get install nats-server'),
  async start(): Promise<RunningEngine> {
    const server = await NatsServer.start()
    return {
      traits: natsTraits,
      tcpUrl: server.tcpUrl,
      wsUrl: server.wsUrl,
      startupMs: server.startupMs,
      subscribed: subacked,
      dispose: () => server.dispose(),
    }
  },
}

export const engines = [mosquittoEngine, rabbitmqEngine, natsEngine] as const
