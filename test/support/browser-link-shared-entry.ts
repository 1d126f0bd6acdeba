// `iotpubsub/shared` as the test pages bundle it, with the link under test as the default (see
// browser-link-entry.ts).
import { connect as connectWith, MQTTClient as Client } from '../../lib/shared/index.js'
import { withDefaultLink } from './default-link.js'

export * from '../../lib/shared/index.js'

declare const __LINK_UNDER_TEST__: 'lean' | 'mqttjs'

export const { connect, MQTTClient } = withDefaultLink(__LINK_UNDER_TEST__, connectWith, Client)
