// Cosmos DB for NoSQL, serverless, Entra ID only: database llmtrace, container traces partitioned by /tenantId with TTL
// on (each trace carries its own ttl from its tenant's retention; the default applies to items without one).

import { tagMap } from 'types.bicep'

@description('Region.')
param location string

@description('Globally unique account name.')
param name string

@description('Default time-to-live of a trace in seconds (-1: TTL on, no default expiry).')
param defaultTtlSeconds int

param tags tagMap

resource account 'Microsoft.DocumentDB/databaseAccounts@2025-04-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2025-04-15' = {
  parent: account
  name: 'llmtrace'
  properties: {
    resource: {
      id: 'llmtrace'
    }
  }
}

resource traces 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2025-04-15' = {
  parent: database
  name: 'traces'
  properties: {
    resource: {
      id: 'traces'
      partitionKey: {
        paths: [
          '/tenantId'
        ]
        kind: 'Hash'
        version: 2
      }
      defaultTtl: defaultTtlSeconds
      indexingPolicy: {
        indexingMode: 'consistent'
        includedPaths: [
          {
            path: '/*'
          }
        ]
        // Prompt and response text are never filtered on: keep them out of the index (cheaper writes).
        excludedPaths: [
          {
            path: '/prompt/?'
          }
          {
            path: '/response/?'
          }
          {
            path: '/toolCalls/*'
          }
          {
            path: '/"_etag"/?'
          }
        ]
      }
    }
  }
}

output name string = account.name
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
output containerName string = traces.name
