using './main.bicep'

// Development: pass-through keys (clients keep their own provider keys), scale to zero, short retention.
param environmentName = 'dev'
param authMode = 'passthrough'
param captureTransport = 'storageQueue'
param maximumInstanceCount = 40
param instanceMemoryMB = 2048
param alwaysReadyHttpInstances = 0
param traceRetentionDays = 14
param logRetentionDays = 30
param enablePurgeProtection = false
param alertTargetFormat = 'teams'

// Secrets come from the environment of whoever deploys, never from source control.
param alertTargetWebhookUrl = readEnvironmentVariable('LLMTRACE_ALERT_TARGET_URL', '')
param adminKey = readEnvironmentVariable('LLMTRACE_ADMIN_KEY')
param webhookSecret = readEnvironmentVariable('LLMTRACE_WEBHOOK_SECRET')
param webhookToken = readEnvironmentVariable('LLMTRACE_WEBHOOK_TOKEN')
