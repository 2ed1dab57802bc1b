using './main.bicep'

// Production: gateway keys (provider keys only in Key Vault), one warm instance on the proxy path, zone-redundant
// storage, purge-protected vault, blocking on prompt injection and leaked secrets. For the Service Bus transport set
// captureTransport = 'serviceBus' and publish the Service Bus build (dotnet publish -p:CaptureTransport=ServiceBus).
param environmentName = 'prod'
param authMode = 'gateway-keys'
param captureTransport = 'storageQueue'
param maximumInstanceCount = 200
param instanceMemoryMB = 2048
param alwaysReadyHttpInstances = 1
param httpPerInstanceConcurrency = 64
param storageSku = 'Standard_ZRS'
param traceRetentionDays = 90
param logRetentionDays = 90
param enablePurgeProtection = true
param alertTargetFormat = 'teams'
param additionalAppSettings = {
  LlmTrace__Security__Enforcement__Policies__prompt_injection: 'Block'
  LlmTrace__Security__Enforcement__Policies__jailbreak: 'Block'
  LlmTrace__Security__Enforcement__Policies__secret: 'Block'
  LlmTrace__Security__PiiHandling: 'Redact'
  LlmTrace__Budgets__DailyUsd: '500'
}

param alertTargetWebhookUrl = readEnvironmentVariable('LLMTRACE_ALERT_TARGET_URL', '')
param adminKey = readEnvironmentVariable('LLMTRACE_ADMIN_KEY')
param webhookSecret = readEnvironmentVariable('LLMTRACE_WEBHOOK_SECRET')
param webhookToken = readEnvironmentVariable('LLMTRACE_WEBHOOK_TOKEN')
