// Shared parameter types.

@export()
@description('Resource tags.')
type tagMap = {
  *: string
}

@export()
@description('App setting name → value.')
type settingMap = {
  *: string
}

@export()
@description('Upstream base URLs by route; empty or absent routes keep the gateway default (unset).')
type upstreamMap = {
  Default: string?
  AzureOpenAI: string?
  Anthropic: string?
  Gemini: string?
}

@export()
@description('One backend of a route\'s pool (LlmTrace__Upstreams__Pools__<route>__Backends__<i>__…).')
type poolBackend = {
  @description('Shown in traces, metrics and /health.')
  name: string
  @description('Base URL, e.g. https://my-ptu.openai.azure.com.')
  url: string
  @description('Lower is preferred: PTU 0, pay-as-you-go 1.')
  priority: int?
  @description('Share of calls within its priority group.')
  weight: int?
  @description('Azure OpenAI: model name → this account\'s deployment name.')
  deployments: settingMap?
  @description('Sign in with the Function App\'s managed identity instead of a provider key.')
  managedIdentity: bool?
  @description('Name of this backend\'s own key among providerKeyVaultSecretNames, when the pool spans accounts with different keys.')
  keySetting: string?
  @description('Azure OpenAI account resource id: with managedIdentity, the app is granted "Cognitive Services OpenAI User" on it.')
  accountResourceId: string?
}

@export()
@description('Backend pools by route; a route with a pool uses it instead of its single upstream URL.')
type poolMap = {
  Default: poolBackend[]?
  AzureOpenAI: poolBackend[]?
  Anthropic: poolBackend[]?
  Gemini: poolBackend[]?
}

@export()
@description('Every queue, table and container name the app uses: storage.bicep creates them and appsettings.bicep hands them to the app, so the two cannot drift (LlmTrace.Tests/Infra checks them against the code).')
var storageNames = {
  queues: [
    'llmtrace-captures'
    'llmtrace-anomaly'
    'llmtrace-security'
  ]
  poisonSuffix: '-poison'
  spendTable: 'llmtracespend'
  anomalyTable: 'llmtraceanomaly'
  trafficTable: 'llmtracetraffic'
  recordTablePrefix: 'llmtrace'
  recordTables: [
    'tenants'
    'gatewaykeys'
    'audit'
    'ratelimits'
  ]
  claimCheckContainer: 'llmtrace-claimchecks'
  parkedContainer: 'llmtrace-parked'
  poisonContainer: 'llmtrace-poison'
  packageContainer: 'app-package'
}
