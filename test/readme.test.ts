import { readFileSync } from 'node:fs';
import path from 'node:path';
import { settings } from '@hub/shared/config';

const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
const rootPackage = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));

describe('README', () => {
  it('documents every setting the configuration module reads', () => {
    for (const name of Object.keys(settings)) expect(readme).toContain(`| \`${name}\` |`);
  });

  it('gives exactly the two quick-start commands, and they are real scripts', () => {
    const quickStart = readme.split('## Quick start')[1]!.split('\n## ')[0]!;
    const commands = [...quickStart.matchAll(/```sh\n([^`]+)```/g)].map((m) => m[1]!.trim());
    expect(commands).toEqual(['npm install && npm start', 'npm test']);
    expect(rootPackage.scripts.start).toBeDefined();
    expect(rootPackage.scripts.test).toBeDefined();
  });

  it('says why each runtime dependency is there', () => {
    const all = new Set<string>();
    for (const dir of ['.', 'shared', 'services/ingest', 'services/index', 'services/viewer-api', 'services/hub']) {
      const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', dir, 'package.json'), 'utf8'));
      for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) if (!dep.startsWith('@hub/') && !dep.startsWith('@types/') && dep !== '@swc/core') all.add(dep);
    }
    for (const dep of all) expect(readme).toContain(`\`${dep}\``);
  });
});
