// The Function App's settings: identity-based connections only (no connection strings, no keys), secrets as Key Vault
// references, and every LlmTrace option the deployment sets. Replaces the whole settings set on each deployment.

import { poolMap, settingMap, storageNames, upstreamMap } from 'types.bicep'

param functionAppName string

param storageAccountName string

param storageBlobEndpoint string

param storageQueueEndpoint string

param storageTableEndpoint string

param cosmosEndpoint string

param cosmosDatabaseName string

param cosmosContainerName string

@description('Days a trace is kept unless its tenant sets its own retention.')
param traceRetentionDays int

@secure()
param appInsightsConnectionString string

param keyVaultName string

param adminKeySecretName string

param webhookSecretName string

param webhookTokenSecretName string

@description('The Key Vault secret holding the alert relay\'s URL; empty when no relay is deployed.')
param alertWebhookUrlSecretName string

@allowed([
  'storageQueue'
  'serviceBus'
])
param captureTransport string

@description('The Service Bus namespace host name; empty with the storage-queue transport.')
param serviceBusFullyQualifiedNamespace string

@allowed([
  'passthrough'
  'gateway-keys'
])
param authMode string

@description('Provider credential setting name (OpenAI, AzureOpenAI, Anthropic, Gemini, OpenAICompatible, or a tenant-specific name) → Key Vault secret name.')
param providerKeyVaultSecretNames settingMap

@description('Upstream base URLs: Default, AzureOpenAI, Anthropic, Gemini (empty values are left out).')
param upstreams upstreamMap

param budgetTimerSchedule string

@description('Any other LlmTrace setting, e.g. { LlmTrace__Security__Enforcement__Policies__prompt_injection: \'Block\' }.')
param additionalAppSettings settingMap

resource site 'Microsoft.Web/sites@2025-03-01' existing = {
  name: functionAppName
}

var kvRef = '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName='

var providerKeySettings = toObject(
  items(providerKeyVaultSecretNames),
  entry => 'LlmTrace__ProviderKeys__${entry.key}',
  entry => '${kvRef}${entry.value})'
)

var upstreamSettings = toObject(
  filter(items(upstreams), entry => !empty(entry.value ?? '')),
  entry => 'LlmTrace__Upstreams__${entry.key}',
  entry => string(entry.value)
)

@description('Backend pools by route (see types.bicep); empty for single upstream URLs only.')
param backendPools poolMap = {}

// One setting per backend field: LlmTrace__Upstreams__Pools__<route>__Backends__<i>__<Field>.
var poolSettings = reduce(
  flatten(map(
    filter(items(backendPools), pool => !empty(pool.value ?? [])),
    pool => map(range(0, length(pool.value!)), i => union(
      {
        'LlmTrace__Upstreams__Pools__${pool.key}__Backends__${i}__Name': pool.value![i].name
        'LlmTrace__Upstreams__Pools__${pool.key}__Backends__${i}__Url': pool.value![i].url
        'LlmTrace__Upstreams__Pools__${pool.key}__Backends__${i}__Priority': string(pool.value![i].?priority ?? 0)
        'LlmTrace__Upstreams__Pools__${pool.key}__Backends__${i}__Weight': string(pool.value![i].?weight ?? 1)
        'LlmTrace__Upstreams__Pools__${pool.key}__Backends__${i}__Credential': (pool.value![i].?managedIdentity ?? false) ? 'ManagedIdentity' : 'Key'
      },
      empty(pool.value![i].?keySetting ?? '') ? {} : {
        'LlmTrace__Upstreams__Pools__${pool.key}__Backends__${i}__KeySetting': pool.value![i].?keySetting
      },
      toObject(
        items(pool.value![i].?deployments ?? {}),
        entry => 'LlmTrace__Upstreams__Pools__${pool.key}__Backends__${i}__Deployments__${entry.key}',
        entry => entry.value
      )
    ))
  )),
  {},
  (all, next) => union(all, next)
)

var serviceBusSettings = captureTransport == 'serviceBus'
  ? {
      LlmTrace__ServiceBus__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
    }
  : {}

var baseSettings = {
  // The Functions host's own storage, through the managed identity (never a plain AzureWebJobsStorage value).
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
  // The gateway's storage adapters: endpoints only, so they use DefaultAzureCredential.
  LlmTrace__Storage__BlobServiceUri: storageBlobEndpoint
  LlmTrace__Storage__QueueServiceUri: storageQueueEndpoint
  LlmTrace__Storage__TableServiceUri: storageTableEndpoint
  LlmTrace__Storage__SpendTable: storageNames.spendTable
  LlmTrace__Storage__AnomalyTable: storageNames.anomalyTable
  LlmTrace__Storage__TrafficTable: storageNames.trafficTable
  LlmTrace__Storage__RecordTablePrefix: storageNames.recordTablePrefix
  LlmTrace__Storage__ClaimCheckContainer: storageNames.claimCheckContainer
  LlmTrace__Storage__ParkedContainer: storageNames.parkedContainer
  LlmTrace__Storage__PoisonContainer: storageNames.poisonContainer
  LlmTrace__Cosmos__Endpoint: cosmosEndpoint
  LlmTrace__Cosmos__Database: cosmosDatabaseName
  LlmTrace__Cosmos__Container: cosmosContainerName
  LlmTrace__Cosmos__RetentionDays: string(traceRetentionDays)
  LlmTrace__Capture__Transport: captureTransport == 'serviceBus' ? 'ServiceBus' : 'StorageQueue'
  LlmTrace__Auth__Mode: authMode
  LlmTrace__AdminKey: '${kvRef}${adminKeySecretName})'
  LlmTrace__Alerts__WebhookSecret: '${kvRef}${webhookSecretName})'
  LlmTrace__Alerts__WebhookToken: '${kvRef}${webhookTokenSecretName})'
  LlmTrace__Alerts__PublicBaseUrl: 'https://${site.properties.defaultHostName}'
  LLMTRACE_BUDGET_TIMER_SCHEDULE: budgetTimerSchedule
}

// Without the Logic App relay there is no webhook URL secret: leave the setting out rather than point at nothing.
var alertSettings = empty(alertWebhookUrlSecretName)
  ? {}
  : {
      LlmTrace__Alerts__WebhookUrl: '${kvRef}${alertWebhookUrlSecretName})'
    }

resource settings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'appsettings'
  properties: union(baseSettings, alertSettings, serviceBusSettings, upstreamSettings, poolSettings, providerKeySettings, additionalAppSettings)
}
