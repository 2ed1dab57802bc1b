// The Function App on a Flex Consumption plan (Linux, pay per use, .NET 10 isolated worker, scale to zero unless
// always-ready instances are asked for). It runs from the package in the storage account's app-package container,
// read with its own system-assigned identity. App settings are applied separately, after the identity has its roles.

import { tagMap } from 'types.bicep'

@description('Region.')
param location string

param stem string

@description('The blob container URL the deployment package is read from.')
param deploymentContainerUrl string

@description('Largest number of instances the app may scale out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Instances kept warm for the HTTP functions (0: scale to zero; 1+ removes cold starts on the proxy path).')
@minValue(0)
@maxValue(20)
param alwaysReadyHttpInstances int

@description('Concurrent HTTP requests per instance (streamed calls hold one each for their whole duration).')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int

param tags tagMap

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: 'plan-${stem}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: 'func-${stem}'
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      // Readiness, not liveness: an instance whose trace store is unreachable or still starting takes no traffic.
      healthCheckPath: '/health/ready'
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: alwaysReadyHttpInstances > 0
          ? [
              {
                name: 'http'
                instanceCount: alwaysReadyHttpInstances
              }
            ]
          : []
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

output name string = site.name
output principalId string = site.identity.principalId
output defaultHostName string = site.properties.defaultHostName
