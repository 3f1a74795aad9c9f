import type { Command } from 'commander';
import { doctorReport, formatDoctorReport } from '../node/doctor.js';

interface DoctorCliOptions {
  json?: boolean;
  probe: boolean;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'versions, CPU and threads, WebAssembly SIMD, ONNX Runtime execution providers, memory and the model cache: paste it into a bug report',
    )
    .option('--json', 'machine-readable output')
    .option('--no-probe', 'do not open a session on each execution provider to see that it works')
    .action(async (o: DoctorCliOptions) => {
      const report = await doctorReport({ probe: o.probe });
      console.log(o.json === true ? JSON.stringify(report, null, 2) : formatDoctorReport(report));
    });
}
