// The Azure deployment's dashboard: an Azure Monitor workbook over the gateway's OpenTelemetry data in Application
// Insights (customMetrics and dependencies) — requests, latency, time to first chunk, spend, tokens, findings,
// refusals and the capture path. Its content is workbook.json, editable in the portal and exported back here.

import { tagMap } from 'types.bicep'

@description('Region.')
param location string

@description('Name stem shared by the environment\'s resources.')
param stem string

@description('Resource id of the Application Insights component the gateway exports to.')
param appInsightsId string

param tags tagMap

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID: stable per environment.
  name: guid(resourceGroup().id, 'llmtrace-workbook', stem)
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'LlmTrace gateway (${stem})'
    category: 'workbook'
    sourceId: appInsightsId
    serializedData: loadTextContent('workbook.json')
  }
}

output id string = workbook.id
