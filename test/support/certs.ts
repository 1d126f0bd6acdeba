import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { kitDir } from './mosquitto.js'

const run = promisify(execFile)

/** The kit's certificate script, run by the tests as users run it. */
export const makeCertsScript = join(kitDir, 'certs', 'make-certs.sh')

export interface ClientCert {
  cert: string
  key: string
}

/**
 * Certificates made once per test file with `mosquitto/certs/make-certs.sh` in a temporary folder: the
 * kit's CA, a server certificate, client certificates (CN = username), plus what no script should make
 * for users but tests need: a client certificate from another CA and an expired one from the kit's CA.
 */
export class TestCerts {
  private constructor(
    /** The temporary folder; `kit/` is the CERTS_DIR of the kit's CA, `foreign/` that of another CA. */
    readonly dir: string,
    readonly ca: string,
    readonly serverCert: string,
    readonly serverKey: string,
  ) {}

  get kitDir(): string {
    return join(this.dir, 'kit')
  }

  static async make(options: { clients: string[]; serverNames?: string[] }): Promise<TestCerts> {
    const dir = await mkdtemp(join(tmpdir(), 'iotpubsub-certs-'))
    const kit = join(dir, 'kit')
    await runScript(kit, ['server', ...(options.serverNames ?? [])])
    if (options.clients.length > 0) await runScript(kit, ['client', ...options.clients])
    const read = (file: string) => readFile(join(kit, file), 'utf8')
    return new TestCerts(dir, await read('ca.crt'), await read('server.crt'), await read('server.key'))
  }

  /** A client certificate made by `make-certs.sh client NAME`. */
  async client(name: string): Promise<ClientCert> {
    const base = join(this.kitDir, 'clients', name)
    return { cert: await readFile(`${base}.crt`, 'utf8'), key: await readFile(`${base}.key`, 'utf8') }
  }

  /** A client certificate with CN = `name` from a second CA the broker does not trust. */
  async foreignClient(name: string): Promise<ClientCert> {
    const foreign = join(this.dir, 'foreign')
    await runScript(foreign, ['client', name], { CA_SUBJECT: '/CN=some other CA' })
    const base = join(foreign, 'clients', name)
    return { cert: await readFile(`${base}.crt`, 'utf8'), key: await readFile(`${base}.key`, 'utf8') }
  }

  /** A client certificate with CN = `name` from the kit's CA that expired in 2021 (made with `openssl ca`). */
  async expiredClient(name: string): Promise<ClientCert> {
    const work = join(this.dir, 'expired')
    await mkdir(work, { recursive: true })
    const key = join(work, `${name}.key`)
    const csr = join(work, `${name}.csr`)
    const crt = join(work, `${name}.crt`)
    await writeFile(join(work, 'index.txt'), '')
    await writeFile(
      join(work, 'ca.cnf'),
      [
        '[ca]',
        'default_ca = test',
        '[test]',
        `database = ${join(work, 'index.txt')}`,
        `new_certs_dir = ${work}`,
        `certificate = ${join(this.kitDir, 'ca.crt')}`,
        `private_key = ${join(this.kitDir, 'ca.key')}`,
        'default_md = sha256',
        'policy = any',
        'rand_serial = yes',
        'unique_subject = no',
        'x509_extensions = client',
        '[any]',
        'commonName = supplied',
        '[client]',
        'basicConstraints = critical,CA:FALSE',
        'extendedKeyUsage = clientAuth',
        '',
      ].join('\n'),
    )
    await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key])
    await run('openssl', ['req', '-new', '-key', key, '-out', csr, '-subj', `/CN=${name}`])
    await run('openssl', [
      'ca', '-batch', '-config', join(work, 'ca.cnf'), '-in', csr, '-out', crt,
      '-startdate', '20200101000000Z', '-enddate', '20210101000000Z', '-notext',
    ])
    return { cert: await readFile(crt, 'utf8'), key: await readFile(key, 'utf8') }
  }

  /** The files the secured profile reads, for `Mosquitto.start({ files })`. */
  brokerFiles(): Record<string, string> {
    return {
      'config/certs/ca.crt': this.ca,
      'config/certs/server.crt': this.serverCert,
      'config/certs/server.key': this.serverKey,
    }
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true })
  }
}

/** Runs `make-certs.sh` with CERTS_DIR = `certsDir`; resolves with its stderr (its progress messages). */
export async function runScript(certsDir: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stderr } = await run(makeCertsScript, args, { env: { ...process.env, CERTS_DIR: certsDir, ...env } })
  return stderr
}
