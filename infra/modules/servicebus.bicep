// Optional Service Bus transport for the capture pipeline (captureTransport = 'serviceBus'): one queue per stage,
// local (SAS) authentication off.

import { tagMap } from 'types.bicep'

@description('Region.')
param location string

param name string

param tags tagMap

var queues = [
  'llmtrace-captures'
  'llmtrace-anomaly'
  'llmtrace-security'
]

resource namespace 'Microsoft.ServiceBus/namespaces@2026-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

resource stageQueues 'Microsoft.ServiceBus/namespaces/queues@2026-01-01' = [
  for queue in queues: {
    parent: namespace
    name: queue
    properties: {
      maxDeliveryCount: 5
      lockDuration: 'PT1M'
      deadLetteringOnMessageExpiration: true
      defaultMessageTimeToLive: 'P7D'
    }
  }
]

output name string = namespace.name
output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
