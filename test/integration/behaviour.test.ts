// The core behaviour suite, run over every transport Node offers against a real Mosquitto started from
// the project's own mosquitto/mosquitto.conf. Each guarantee of the README has a test here that fails
// without it. The suite itself is shared with RabbitMQ and NATS (test/engines/): it lives in
// test/support/engines/behaviour-suite.ts, and Mosquitto's differences are declared in definitions.ts.
// On Mosquitto the suite also reads the broker's log (SUBSCRIBE/UNSUBSCRIBE counts) to prove ref-counting.
import { behaviourSuite } from '../support/engines/behaviour-suite.js'
import { mosquittoEngine } from '../support/engines/definitions.js'

behaviourSuite(mosquittoEngine)
