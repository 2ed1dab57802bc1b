// A Logic App (Consumption) that receives LlmTrace alerts on an HTTP trigger, checks the shared token the gateway
// sends in x-llmtrace-webhook-token (Logic Apps expressions cannot verify the HMAC signature), and posts a readable
// message to a Teams (Workflows) or Slack incoming webhook. The trigger's callback URL is written to Key Vault.

import { tagMap } from 'types.bicep'

@description('Region.')
param location string

param name string

@description('The Teams Workflows or Slack incoming-webhook URL alerts are posted to.')
@secure()
param targetWebhookUrl string

@description('teams: an Adaptive Card message; slack: a text message.')
@allowed([
  'teams'
  'slack'
])
param targetFormat string

@description('The token the gateway sends in x-llmtrace-webhook-token.')
@secure()
param webhookToken string

@description('Key Vault that receives the trigger callback URL as secret llmtrace-alert-webhook-url.')
param keyVaultName string

param tags tagMap

var title = '@{concat(\'LlmTrace \', toUpper(coalesce(triggerBody()?[\'severity\'], \'info\')), \': \', coalesce(triggerBody()?[\'kind\'], \'alert\'))}'
var summary = '@{coalesce(triggerBody()?[\'summary\'], \'\')}'
var tenantLine = '@{concat(\'Tenant: \', coalesce(triggerBody()?[\'tenantId\'], \'-\'), \'  Trace: \', coalesce(triggerBody()?[\'traceUrl\'], triggerBody()?[\'traceId\'], \'-\'), \'  At: \', coalesce(triggerBody()?[\'at\'], \'\'))}'

var slackBody = {
  text: '@{concat(\'*LlmTrace \', toUpper(coalesce(triggerBody()?[\'severity\'], \'info\')), \'* \', coalesce(triggerBody()?[\'kind\'], \'alert\'), \': \', coalesce(triggerBody()?[\'summary\'], \'\'), \'\n\', \'Tenant \', coalesce(triggerBody()?[\'tenantId\'], \'-\'), \' | \', coalesce(triggerBody()?[\'traceUrl\'], triggerBody()?[\'traceId\'], \'-\'))}'
}

var teamsBody = {
  type: 'message'
  attachments: [
    {
      contentType: 'application/vnd.microsoft.card.adaptive'
      content: {
        '$schema': 'http://adaptivecards.io/schemas/adaptive-card.json'
        type: 'AdaptiveCard'
        version: '1.4'
        body: [
          {
            type: 'TextBlock'
            weight: 'Bolder'
            size: 'Medium'
            text: title
          }
          {
            type: 'TextBlock'
            wrap: true
            text: summary
          }
          {
            type: 'TextBlock'
            wrap: true
            isSubtle: true
            text: tenantLine
          }
        ]
      }
    }
  ]
}

resource workflow 'Microsoft.Logic/workflows@2019-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    state: 'Enabled'
    parameters: {
      webhookToken: {
        value: webhookToken
      }
      targetWebhookUrl: {
        value: targetWebhookUrl
      }
    }
    definition: {
      '$schema': 'https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#'
      contentVersion: '1.0.0.0'
      parameters: {
        webhookToken: {
          type: 'SecureString'
        }
        targetWebhookUrl: {
          type: 'SecureString'
        }
      }
      triggers: {
        manual: {
          type: 'Request'
          kind: 'Http'
          inputs: {
            method: 'POST'
            schema: {
              type: 'object'
              properties: {
                alertId: {
                  type: 'string'
                }
                kind: {
                  type: 'string'
                }
                severity: {
                  type: 'string'
                }
                tenantId: {
                  type: [
                    'string'
                    'null'
                  ]
                }
                traceId: {
                  type: [
                    'string'
                    'null'
                  ]
                }
                traceUrl: {
                  type: [
                    'string'
                    'null'
                  ]
                }
                summary: {
                  type: 'string'
                }
                at: {
                  type: 'string'
                }
                details: {
                  type: 'object'
                }
              }
              required: [
                'alertId'
                'kind'
                'severity'
                'summary'
              ]
            }
          }
          // The token header and the alert stay out of the run history.
          runtimeConfiguration: {
            secureData: {
              properties: [
                'inputs'
                'outputs'
              ]
            }
          }
        }
      }
      actions: {
        Check_token: {
          type: 'If'
          expression: {
            and: [
              {
                equals: [
                  '@coalesce(triggerOutputs()?[\'headers\']?[\'x-llmtrace-webhook-token\'], \'\')'
                  '@parameters(\'webhookToken\')'
                ]
              }
              {
                not: {
                  equals: [
                    '@parameters(\'webhookToken\')'
                    ''
                  ]
                }
              }
            ]
          }
          actions: {
            Post_message: {
              type: 'Http'
              inputs: {
                method: 'POST'
                uri: '@parameters(\'targetWebhookUrl\')'
                headers: {
                  'Content-Type': 'application/json'
                }
                body: targetFormat == 'teams' ? teamsBody : slackBody
              }
              runtimeConfiguration: {
                secureData: {
                  properties: [
                    'inputs'
                  ]
                }
              }
            }
            Accepted: {
              type: 'Response'
              kind: 'Http'
              runAfter: {
                Post_message: [
                  'Succeeded'
                ]
              }
              inputs: {
                statusCode: 202
              }
            }
            Target_failed: {
              type: 'Response'
              kind: 'Http'
              runAfter: {
                Post_message: [
                  'Failed'
                  'TimedOut'
                ]
              }
              // 502 makes the gateway retry with back-off.
              inputs: {
                statusCode: 502
              }
            }
          }
          else: {
            actions: {
              Unauthorized: {
                type: 'Response'
                kind: 'Http'
                inputs: {
                  statusCode: 401
                  body: {
                    error: 'missing or wrong x-llmtrace-webhook-token'
                  }
                }
              }
            }
          }
          runAfter: {}
        }
      }
      outputs: {}
    }
  }
}

resource trigger 'Microsoft.Logic/workflows/triggers@2019-05-01' existing = {
  parent: workflow
  name: 'manual'
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = {
  name: keyVaultName
}

// The callback URL carries a SAS signature: it is a secret, kept in Key Vault rather than in outputs or app settings.
resource callbackUrlSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: 'llmtrace-alert-webhook-url'
  properties: {
    value: trigger.listCallbackUrl().value
  }
}

output name string = workflow.name
output callbackUrlSecretName string = callbackUrlSecret.name
