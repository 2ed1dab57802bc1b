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
