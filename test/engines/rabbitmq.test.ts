// The shared behaviour suite on a private RabbitMQ node (rabbitmq_mqtt + rabbitmq_web_mqtt), started once
// for this file. RabbitMQ's differences are declared in test/support/engines/definitions.ts.
import { behaviourSuite } from '../support/engines/behaviour-suite.js'
import { rabbitmqEngine } from '../support/engines/definitions.js'

behaviourSuite(rabbitmqEngine)
