// Key Vault (RBAC) for the secrets the gateway reads through Key Vault references: the admin key, the webhook HMAC
// secret and shared token, and the provider keys (set after deployment with az keyvault secret set).

import { tagMap } from 'types.bicep'

@description('Region.')
param location string

@maxLength(24)
param name string

@description('Soft-deleted vaults and secrets are kept this many days.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int

@description('Purge protection cannot be turned off again once on: on for production.')
param enablePurgeProtection bool

@secure()
param adminKey string

@secure()
param webhookSecret string

@secure()
param webhookToken string

param tags tagMap

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: enablePurgeProtection ? true : null
    // Flex Consumption resolves Key Vault references over the public endpoint.
    publicNetworkAccess: 'Enabled'
  }
}

resource adminKeySecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: 'llmtrace-admin-key'
  properties: {
    value: adminKey
  }
}

resource webhookSecretSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: 'llmtrace-webhook-secret'
  properties: {
    value: webhookSecret
  }
}

resource webhookTokenSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: 'llmtrace-webhook-token'
  properties: {
    value: webhookToken
  }
}

output name string = vault.name
output adminKeySecretName string = adminKeySecret.name
output webhookSecretName string = webhookSecretSecret.name
output webhookTokenSecretName string = webhookTokenSecret.name
