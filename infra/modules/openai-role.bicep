// "Cognitive Services OpenAI User" for the Function App's identity on one Azure OpenAI account, so a pool backend can
// be called with the app's managed identity instead of a key. Deployed at the account's resource group.

@description('The Azure OpenAI account (in this module\'s resource group).')
param accountName string

@description('The Function App\'s system-assigned identity.')
param principalId string

@description('Makes the assignment name unique to the app.')
param functionAppId string

var cognitiveServicesOpenAIUser = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: accountName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, functionAppId, cognitiveServicesOpenAIUser)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', cognitiveServicesOpenAIUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
