// The browser entry as the test pages bundle it: the same API, with the link under test (IOTPUBSUB_LINK of the
// vitest project, baked in by the bundler as __LINK_UNDER_TEST__) as the default.
import { connect as connectWith, MQTTClient as Client } from '../../lib/browser.js'
import { withDefaultLink } from './default-link.js'

export * from '../../lib/browser.js'

declare const __LINK_UNDER_TEST__: 'lean' | 'mqttjs'

export const { connect, MQTTClient } = withDefaultLink(__LINK_UNDER_TEST__, connectWith, Client)
