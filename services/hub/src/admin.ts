import { parseArgs } from 'node:util';
import { allScopes, createClient, disableClient, listClients, rotateClientSecret, scopes } from '@hub/shared/auth';
import { ConfigError, loadConfig } from '@hub/shared/config';
import { isHubError } from '@hub/shared/errors';
import { createLogger } from '@hub/shared/log';
import { addHl7Sender, listDicomSenders, listHl7Senders, registerDicomSender, removeDicomSender, removeHl7Sender } from '@hub/ingest';
import { createOrganization, listOrganizations, organizationKinds, type OrganizationKind } from '@hub/shared/org';
import { openAdminDatabase } from './admin-db';

const usage = `hub admin: manage member organizations, their machine clients, and their DICOM and HL7 senders

  org create --code CODE --name NAME --kind ${organizationKinds.join('|')} [--name-en NAME] [--grade 3A] [--stopped-printing-film-on YYYY-MM-DD]
  org list
  client create --org CODE --name NAME --scopes "SCOPE SCOPE…"    prints the client id and its secret (shown once)
  client list [--org CODE]
  client rotate --client CLIENT_ID                                  prints the new secret; the old one stops working
  client disable --client CLIENT_ID
  ae add --org CODE --ae AE_TITLE [--address IP|CIDR …]            registers a PACS's calling AE title for C-STORE (unique in the region);
                                                                    with --address (repeatable), only from those hosts or networks
  ae list [--org CODE]
  ae remove --ae AE_TITLE
  hl7 add --org CODE [--facility MSH4] [--address IP|CIDR …]      binds an LIS sending over MLLP to the organization: by its MSH-4
                                                                    sending facility, from any or only these addresses; or by address alone
  hl7 list [--org CODE]
  hl7 remove --org CODE [--facility MSH4] [--address IP|CIDR]

scopes: ${allScopes.map((s) => `\n  ${s.padEnd(20)} ${scopes[s]}`).join('')}

Uses the same environment as the hub (DATABASE_URL, or the embedded PostgreSQL in HUB_DATA_DIR).`;

const options = {
  code: { type: 'string' },
  name: { type: 'string' },
  'name-en': { type: 'string' },
  kind: { type: 'string' },
  grade: { type: 'string' },
  'stopped-printing-film-on': { type: 'string' },
  org: { type: 'string' },
  scopes: { type: 'string' },
  client: { type: 'string' },
  ae: { type: 'string' },
  facility: { type: 'string' },
  address: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

function need(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`--${flag} is required`);
  return value;
}

class UsageError extends Error {}

export async function admin(argv: string[], env: Record<string, string | undefined>, out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  const [noun, verb] = positionals;
  if (values.help || !noun) {
    out(usage);
    return;
  }
  const config = loadConfig(env);
  const { db, close } = await openAdminDatabase(config, createLogger({ level: 'warn' }));
  try {
    switch (`${noun} ${verb ?? ''}`.trim()) {
      case 'org create': {
        const org = await createOrganization(db, {
          code: need(values.code, 'code'),
          name: need(values.name, 'name'),
          nameEn: values['name-en'],
          kind: need(values.kind, 'kind') as OrganizationKind,
          grade: values.grade,
          stoppedPrintingFilmOn: values['stopped-printing-film-on'],
        });
        out(`created organization ${org.code} (${org.kind})`);
        break;
      }
      case 'org list':
        for (const o of await listOrganizations(db)) out(`${o.code}\t${o.kind}\t${o.name}${o.active ? '' : '\t(inactive)'}`);
        break;
      case 'client create': {
        const { clientId, clientSecret } = await createClient(db, {
          organizationCode: need(values.org, 'org'),
          name: need(values.name, 'name'),
          scopes: need(values.scopes, 'scopes').split(/[\s,]+/).filter(Boolean),
        });
        out(`client_id=${clientId}`);
        out(`client_secret=${clientSecret}`);
        out('Keep the secret now: the hub stores only its hash.');
        break;
      }
      case 'client list':
        for (const c of await listClients(db, values.org)) {
          out(`${c.clientId}\t${c.organizationCode}\t${c.scopes.join(' ')}\t${c.disabledAt ? 'disabled' : 'enabled'}\trotated ${c.secretRotatedAt.toISOString()}`);
        }
        break;
      case 'client rotate':
        out(`client_secret=${await rotateClientSecret(db, need(values.client, 'client'))}`);
        out('The old secret no longer works; tokens already issued expire on their own.');
        break;
      case 'client disable':
        await disableClient(db, need(values.client, 'client'));
        out(`disabled ${values.client}`);
        break;
      case 'ae add': {
        const sender = await registerDicomSender(db, { organizationCode: need(values.org, 'org'), aeTitle: need(values.ae, 'ae'), addresses: values.address });
        out(`registered AE title ${sender.aeTitle} for ${sender.organizationCode}${sender.addresses.length > 0 ? ` from ${sender.addresses.join(', ')}` : ' from any address'}`);
        break;
      }
      case 'ae list':
        for (const s of await listDicomSenders(db, values.org)) out(`${s.aeTitle}\t${s.organizationCode}\t${s.addresses.length > 0 ? s.addresses.join(' ') : 'any address'}`);
        break;
      case 'ae remove':
        await removeDicomSender(db, need(values.ae, 'ae'));
        out(`removed AE title ${values.ae}`);
        break;
      case 'hl7 add': {
        const organizationCode = need(values.org, 'org');
        if (!values.facility && !values.address?.length) throw new UsageError('--facility or --address is required');
        for (const address of values.address?.length ? values.address : [undefined]) {
          const sender = await addHl7Sender(db, { organizationCode, facility: values.facility, address });
          out(`registered HL7 sender ${sender.sendingFacility ?? 'any facility'} for ${sender.organizationCode} from ${sender.sourceAddress ?? 'any address'}`);
        }
        break;
      }
      case 'hl7 list':
        for (const s of await listHl7Senders(db, values.org)) out(`${s.organizationCode}\t${s.sendingFacility ?? 'any facility'}\t${s.sourceAddress ?? 'any address'}`);
        break;
      case 'hl7 remove':
        await removeHl7Sender(db, { organizationCode: need(values.org, 'org'), facility: values.facility, address: values.address?.[0] });
        out(`removed HL7 sender ${values.facility ?? 'any facility'} of ${values.org} from ${values.address?.[0] ?? 'any address'}`);
        break;
      default:
        throw new UsageError(`unknown command "${positionals.join(' ')}"`);
    }
  } finally {
    await close();
  }
}

if (require.main === module) {
  admin(process.argv.slice(2), process.env, (line) => process.stdout.write(`${line}\n`)).catch((err: unknown) => {
    if (err instanceof UsageError || err instanceof ConfigError || isHubError(err) || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`hub admin: ${(err as Error).message}\n`);
      process.exit(2);
    }
    process.stderr.write(`hub admin failed: ${String(err)}\n`);
    process.exit(1);
  });
}
