// The shared behaviour suite on a private nats-server (MQTT with JetStream, WebSocket), started once for
// this file. NATS's differences are declared in test/support/engines/definitions.ts.
import { behaviourSuite } from '../support/engines/behaviour-suite.js'
import { natsEngine } from '../support/engines/definitions.js'

behaviourSuite(natsEngine)
