// mosquitto/README.md's "Install on Debian" section, run as root in a Debian 13 container made from the
// stand-in image's root filesystem (Debian's mosquitto, mosquitto-clients and openssl installed, as
// `apt-get install` leaves them): the section's commands with `sudo` dropped, the broker started as the
// package's systemd unit starts it (containers have no systemd), then logins from the host over wss:// and
// mqtts://, verified against the CA the section made.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClientPool, waitForStatus } from '../support/clients.js'
import { imageReady, KitCopy, noDockerEngine, readme, runName, shellBlocks } from '../support/docker.js'
import { command, must, pinnedImage } from '../support/docker-image.js'
import { publishUntil } from '../support/probe.js'
import { next, waitFor } from '../support/wait.js'

const PASSWORD = 'dashboard-system-Pw'
const SECTION = 'Install on Debian, Ubuntu or Raspberry Pi OS'

describe.skipIf(noDockerEngine())('mosquitto/README.md: the system install, in a Debian container', () => {
  let kit: KitCopy
  const container = runName('system-install')
  const pool = new ClientPool('docker-system')
  /** Runs a line in the container, in the kit's folder, as root. */
  const inside = (line: string, input?: string) => command('docker', ['exec', '-i', '-w', '/root/mosquitto', container, 'bash', '-c', line], { input, timeoutMs: 120_000 })
  const mustInside = async (line: string, input?: string) => {
    const result = await inside(line, input)
    if (result.code !== 0) throw new Error(`\`${line}\` exited ${result.code} in the container:\n${result.stderr}\n${result.stdout}`)
    return `${result.stdout}${result.stderr}`
  }

  beforeAll(async () => {
    await imageReady()
    kit = await KitCopy.create('system-install')
    // The host reaches the secured profile's published listeners on loopback only.
    await must('docker', ['run', '-d', '--name', container, '-p', `127.0.0.1:${kit.ports.MQTTS_PORT}:8883`, '-p', `127.0.0.1:${kit.ports.WSS_PORT}:9443`, '--entrypoint', 'sleep', pinnedImage, 'infinity'])
    await must('docker', ['cp', kit.dir, `${container}:/root/mosquitto`])
  })
  afterAll(async () => {
    await pool.endAll()
    await command('docker', ['rm', '-f', '-v', container])
    await kit?.dispose()
  })

  it('installs the secured profile with the section\'s commands; the broker starts as the package starts it, without a warning', async () => {
    const [sed, install] = shellBlocks(readme(), SECTION).filter((b) => !b.startsWith('sudo apt-get install'))
    expect(sed).toMatch(/^sed -e /)
    await mustInside((sed as string).trim())
    const lines = (install as string).trim().split('\n')
    const systemd = lines.filter((l) => /systemctl|tail -f/.test(l))
    expect(systemd).toEqual(['sudo systemctl restart mosquitto', 'sudo systemctl status mosquitto', 'sudo tail -f /var/log/mosquitto/mosquitto.log'])
    for (const line of lines.filter((l) => !systemd.includes(l))) {
      await mustInside(line.replace(/^sudo /, ''), line.includes('users.sh add') ? `${PASSWORD}\n` : undefined)
    }
    // `systemctl restart mosquitto`: the unit's own lines, ExecStartPre in order, then ExecStart in the background.
    const unit = await mustInside('cat /lib/systemd/system/mosquitto.service')
    const pre = [...unit.matchAll(/^ExecStartPre=(.+)$/gm)].map((m) => m[1] as string)
    const start = /^ExecStart=(.+)$/m.exec(unit)?.[1]
    expect(start).toBe('/usr/sbin/mosquitto -c /etc/mosquitto/mosquitto.conf')
    for (const line of pre) await mustInside(line)
    await must('docker', ['exec', '-d', container, 'sh', '-c', start as string])
    // `tail -f` of the log, bounded.
    const log = await waitFor(async () => {
      const out = await inside('timeout 2 tail -f /var/log/mosquitto/mosquitto.log')
      return /mosquitto version \S+ running/.test(out.stdout) ? out.stdout : ''
    }, 'mosquitto running in /var/log/mosquitto/mosquitto.log', 30_000, 250)
    expect(log).toMatch(/Config loaded from \/etc\/mosquitto\/mosquitto\.conf\./)
    expect(log).not.toMatch(/Warning|Error/)
    // It runs as the package's user, which owns the secrets.
    expect((await mustInside('stat -c "%U %a" /etc/mosquitto/passwd /etc/mosquitto/acl /etc/mosquitto/certs/server.key')).trim().split('\n')).toEqual(['mosquitto 600', 'mosquitto 600', 'mosquitto 600'])
  })

  it('lets the user the section added in over wss:// and a client certificate of its CA over mqtts://', async () => {
    await mustInside('CERTS_DIR=/etc/mosquitto/certs certs/make-certs.sh client sensor-9')
    const certs = join(kit.dir, 'from-container')
    await must('docker', ['cp', `${container}:/etc/mosquitto/certs`, certs])
    const read = (file: string) => readFile(join(certs, file), 'utf8')
    const ca = await read('ca.crt')
    const dashboard = pool.connect(kit.url('wss', 'WSS_PORT'), { protocolVersion: 5, reconnect: false, ca, username: 'dashboard', password: PASSWORD })
    await waitForStatus(dashboard, 'connected', 20_000)
    const device = pool.connect(kit.url('mqtts', 'MQTTS_PORT'), { protocolVersion: 5, reconnect: false, ca, cert: await read('clients/sensor-9.crt'), key: await read('clients/sensor-9.key') })
    await waitForStatus(device, 'connected', 20_000)
    const seen = next(dashboard.observe('devices/+/telemetry', { qos: 1, codec: 'text' }), 'telemetry at the dashboard', undefined, 20_000)
    const message = await publishUntil(seen, () => device.publish('devices/sensor-9/telemetry', '21.5', { qos: 1 }))
    expect(message).toMatchObject({ topic: 'devices/sensor-9/telemetry', payload: '21.5' })
  })
})
