/** CDK app entry (cdk.json "app"): every environment, or those named by context `dealfinder:env`. */
import { buildApp } from './app.ts';
import { ENVIRONMENT_NAMES, type EnvironmentName } from './config.ts';

const only = process.env.DEALFINDER_INFRA_ENV;
const environments = only ? [only as EnvironmentName] : ENVIRONMENT_NAMES;
const { app } = buildApp({ environments });
app.synth();
