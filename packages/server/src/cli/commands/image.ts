import type { Command } from 'commander';

import { buildImage } from '../../hypervisor/index.js';
import { action, type CliContext } from '../context.js';

/** aether image build: the AETHER-LINUX root file system, with debootstrap, on this machine. */
export function registerImageCommands(program: Command, context: CliContext): void {
  const image = program.command('image').description('Sandbox base images');
  image
    .command('build')
    .description('Build the AETHER-LINUX rootfs with debootstrap (needs root and a Debian mirror); then set AETHER_HYPERVISOR_IMAGE to it')
    .requiredOption('--dir <dir>', 'where the image goes (must not exist)')
    .option('--suite <suite>', 'Debian suite', 'bookworm')
    .option('--mirror <url>', 'Debian mirror', 'http://deb.debian.org/debian')
    .option('--extra <packages>', 'comma-separated extra packages (e.g. nmap for RESTRICTED tools)')
    .action(action(context, async (command) => {
      const options = command.opts<{ dir: string; suite: string; mirror: string; extra?: string }>();
      const manifest = await buildImage({
        targetDir: options.dir,
        suite: options.suite,
        mirror: options.mirror,
        ...(options.extra ? { extraPackages: options.extra.split(',').map((name) => name.trim()).filter(Boolean) } : {}),
        onOutput: (line) => { context.io.err(line); },
      });
      return { image: options.dir, suite: manifest.suite, packages: manifest.packages.length, use: `AETHER_HYPERVISOR_IMAGE=${options.dir}` };
    }));
}
