// iotpubsub/react on React 19 (the repository's react and react-dom). The suite is in react-suite.ts.
// The SDK's Node entry is imported first, before the DOM exists (see dom.ts), then react-dom.
import { afterAll } from 'vitest'
import '../../lib/node.js'
import { installDom } from './dom.js'
import { reactSuite } from './react-suite.js'

const dom = installDom()
const React = await import('react')
const { createRoot } = await import('react-dom/client')
const hooks = await import('../../lib/react/index.js')
afterAll(() => dom.dispose())

reactSuite({ React, createRoot, hooks, dom })
