// Shared parameter types.

@export()
@description('Resource tags.')
type tagMap = {
  *: string
}

@export()
@description('App setting name → value.')
type settingMap = {
  *: string
}

@export()
@description('Upstream base URLs by route; empty or absent routes keep the gateway default (unset).')
type upstreamMap = {
  Default: string?
  AzureOpenAI: string?
  Anthropic: string?
  Gemini: string?
}
