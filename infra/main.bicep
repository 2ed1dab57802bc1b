// LlmTrace on Azure: the gateway as a Function App on Flex Consumption with its storage account, Cosmos DB (serverless)
// for traces, optional Service Bus transport, Key Vault for secrets, Application Insights, and a Logic App that relays
// alerts to Teams or Slack. Every connection uses the app's managed identity; no keys or connection strings are stored.
targetScope = 'resourceGroup'

import { poolMap, settingMap, storageNames, upstreamMap } from 'modules/types.bicep'

@description('Environment name, used in resource names and tags.')
@allowed([
  'dev'
  'test'
  'prod'
])
param environmentName string

@description('Region for every resource.')
param location string = resourceGroup().location

@description('Short product prefix for resource names.')
@minLength(2)
@maxLength(8)
param namePrefix string = 'llmtrace'

@description('Capture pipeline transport: storage queues (default) or Service Bus.')
@allowed([
  'storageQueue'
  'serviceBus'
])
param captureTransport string = 'storageQueue'

@description('passthrough: clients send their own provider keys; gateway-keys: clients send ltk_ keys and the gateway sends provider keys from Key Vault.')
@allowed([
  'passthrough'
  'gateway-keys'
])
param authMode string = 'gateway-keys'

@description('Provider credential settings to wire to Key Vault secrets (setting name → secret name). Create the secrets after deployment.')
param providerKeyVaultSecretNames settingMap = {
  OpenAI: 'openai-api-key'
  AzureOpenAI: 'azure-openai-api-key'
  Anthropic: 'anthropic-api-key'
  Gemini: 'gemini-api-key'
}

@description('Upstream base URLs (Default = OpenAI or an OpenAI-compatible server; AzureOpenAI = https://<resource>.openai.azure.com).')
param upstreams upstreamMap = {
  Default: 'https://api.openai.com'
  AzureOpenAI: ''
  Anthropic: 'https://api.anthropic.com'
  Gemini: 'https://generativelanguage.googleapis.com'
}

@description('Backend pools by route: priorities, weights, Azure deployment maps and managed identity (see infra/modules/types.bicep and docs/CONFIGURATION.md). Empty: every route uses its single upstream URL.')
param backendPools poolMap = {}

@description('Largest number of Function App instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Always-ready instances for the HTTP functions (0 scales to zero).')
@minValue(0)
@maxValue(20)
param alwaysReadyHttpInstances int = 0

@description('Concurrent HTTP requests per instance.')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 64

@description('Storage redundancy.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
])
param storageSku string = 'Standard_LRS'

@description('Days a trace is kept unless its tenant sets its own retention.')
@minValue(1)
@maxValue(3650)
param traceRetentionDays int = 90

@description('Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Key Vault purge protection (cannot be turned off once on).')
param enablePurgeProtection bool = true

@description('NCRONTAB schedule of the budget-window timer.')
param budgetTimerSchedule string = '0 */5 * * * *'

@description('Teams Workflows or Slack incoming-webhook URL for alerts (empty: no Logic App relay).')
@secure()
param alertTargetWebhookUrl string = ''

@description('Message shape for alertTargetWebhookUrl.')
@allowed([
  'teams'
  'slack'
])
param alertTargetFormat string = 'teams'

@description('The management API admin key (use a long random value).')
@secure()
@minLength(32)
param adminKey string

@description('HMAC key for x-llmtrace-signature on alerts.')
@secure()
@minLength(32)
param webhookSecret string

@description('Shared token the Logic App relay checks in x-llmtrace-webhook-token.')
@secure()
@minLength(32)
param webhookToken string

@description('Any other LlmTrace app setting (see README), e.g. enforcement policies.')
param additionalAppSettings settingMap = {}

var suffix = take(uniqueString(subscription().id, resourceGroup().id, environmentName), 6)
var stem = '${namePrefix}-${environmentName}-${suffix}'
var tags = {
  application: 'llmtrace'
  environment: environmentName
}
var deployAlertRelay = !empty(alertTargetWebhookUrl)
// Names are computed here (not taken from module outputs) so What-If can predict every resource.
var names = {
  storage: take(toLower('${replace(namePrefix, '-', '')}${environmentName}${uniqueString(resourceGroup().id, environmentName)}'), 24)
  cosmos: 'cosmos-${stem}'
  serviceBus: 'sb-${stem}'
  keyVault: take('kv-${namePrefix}-${environmentName}-${suffix}', 24)
  logicApp: 'logic-${stem}'
  functionApp: 'func-${stem}'
  appInsights: 'appi-${stem}'
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    stem: stem
    retentionInDays: logRetentionDays
    tags: tags
  }
}

module workbook 'modules/workbook.bicep' = {
  name: 'workbook'
  params: {
    location: location
    stem: stem
    appInsightsId: monitoring.outputs.appInsightsId
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    name: names.storage
    skuName: storageSku
    tags: tags
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    location: location
    name: names.cosmos
    defaultTtlSeconds: traceRetentionDays * 86400
    tags: tags
  }
}

module serviceBus 'modules/servicebus.bicep' = if (captureTransport == 'serviceBus') {
  name: 'servicebus'
  params: {
    location: location
    name: names.serviceBus
    tags: tags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    location: location
    name: names.keyVault
    softDeleteRetentionInDays: environmentName == 'prod' ? 90 : 7
    enablePurgeProtection: enablePurgeProtection
    adminKey: adminKey
    webhookSecret: webhookSecret
    webhookToken: webhookToken
    tags: tags
  }
}

module alertRelay 'modules/alert-relay.bicep' = if (deployAlertRelay) {
  name: 'alert-relay'
  params: {
    location: location
    name: names.logicApp
    targetWebhookUrl: alertTargetWebhookUrl
    targetFormat: alertTargetFormat
    webhookToken: webhookToken
    keyVaultName: names.keyVault
    tags: tags
  }
  dependsOn: [
    keyVault
  ]
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    stem: stem
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    tags: tags
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    functionAppName: names.functionApp
    storageAccountName: names.storage
    cosmosAccountName: names.cosmos
    keyVaultName: names.keyVault
    appInsightsName: names.appInsights
    serviceBusNamespaceName: captureTransport == 'serviceBus' ? names.serviceBus : ''
  }
  dependsOn: [
    functionApp
    storage
    cosmos
    keyVault
    monitoring
    serviceBus
  ]
}

// Pool backends that sign in with the app's identity get "Cognitive Services OpenAI User" on their account.
var identityAccounts = flatten(map(items(backendPools), pool => filter(pool.value ?? [], b => (b.?managedIdentity ?? false) && !empty(b.?accountResourceId ?? ''))))

module openAIRoles 'modules/openai-role.bicep' = [
  for backend in identityAccounts: {
    name: 'openai-role-${uniqueString(backend.accountResourceId!)}'
    scope: resourceGroup(split(backend.accountResourceId!, '/')[2], split(backend.accountResourceId!, '/')[4])
    params: {
      accountName: last(split(backend.accountResourceId!, '/'))
      principalId: functionApp.outputs.principalId
      functionAppId: resourceId('Microsoft.Web/sites', names.functionApp)
    }
  }
]

module appSettings 'modules/appsettings.bicep' = {
  name: 'appsettings'
  params: {
    functionAppName: names.functionApp
    storageAccountName: names.storage
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    cosmosContainerName: cosmos.outputs.containerName
    traceRetentionDays: traceRetentionDays
    appInsightsConnectionString: monitoring.outputs.connectionString
    keyVaultName: names.keyVault
    adminKeySecretName: keyVault.outputs.adminKeySecretName
    webhookSecretName: keyVault.outputs.webhookSecretName
    webhookTokenSecretName: keyVault.outputs.webhookTokenSecretName
    alertWebhookUrlSecretName: deployAlertRelay ? alertRelay!.outputs.callbackUrlSecretName : ''
    captureTransport: captureTransport
    serviceBusFullyQualifiedNamespace: captureTransport == 'serviceBus' ? serviceBus!.outputs.fullyQualifiedNamespace : ''
    authMode: authMode
    providerKeyVaultSecretNames: providerKeyVaultSecretNames
    upstreams: upstreams
    backendPools: backendPools
    budgetTimerSchedule: budgetTimerSchedule
    additionalAppSettings: additionalAppSettings
  }
  // Key Vault references and identity connections resolve only once the identity has its roles.
  dependsOn: [
    roles
    functionApp
  ]
}

@description('Point SDKs here: <gatewayBaseUrl>/v1 (OpenAI), /openai (Azure OpenAI), /anthropic, /gemini.')
output gatewayBaseUrl string = 'https://${functionApp.outputs.defaultHostName}'
output functionAppName string = functionApp.outputs.name
output storageAccountName string = storage.outputs.name
output deploymentContainerName string = storageNames.packageContainer
output keyVaultName string = keyVault.outputs.name
output cosmosAccountName string = cosmos.outputs.name
output logicAppName string = deployAlertRelay ? alertRelay!.outputs.name : ''
output serviceBusNamespace string = captureTransport == 'serviceBus' ? serviceBus!.outputs.name : ''
