import { parse, splitStages } from '../work/wt-16/server/src/parser';
import { runRules } from '../work/wt-16/server/src/rules';
const cases: Record<string,string> = {
  args: 'FROM golang:1.22\nARG VERSION\nARG BUILD_DATE\nWORKDIR /src\nCOPY go.mod ./\nRUN go mod download\nCOPY . .\nRUN go build -ldflags "-X main.v=$VERSION -X main.d=$BUILD_DATE" -o /app .\n',
  apt2: 'FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\nRUN apt-get update\nRUN apt-get install -y git\n',
  apt3: 'FROM debian:12\nRUN apt-get update && apt-get upgrade -y\nRUN apt-get install -y curl\n',
  apt4: 'FROM debian:12\nRUN apt-get update -qq\nRUN apt-get install -y curl && apt-get update\n',
  apkfile: 'FROM alpine:3.19\nWORKDIR /app\nCOPY . .\nRUN apk add --no-cache $(cat packages.txt)\nRUN ./build.sh\n',
  aptfile: 'FROM debian:12\nWORKDIR /app\nCOPY . .\nRUN apt-get update && xargs -a apt-packages.txt apt-get install -y\nRUN make\n',
  maven: 'FROM maven:3-eclipse-temurin-17 AS build\nWORKDIR /app\nCOPY src ./src\nCOPY pom.xml .\nRUN mvn dependency:go-offline\nRUN mvn package\n',
  ws: 'FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nCOPY packages/api/package.json packages/api/\nCOPY packages/web/package.json packages/web/\nRUN npm ci\nCOPY . .\nRUN npm run build -w api\n',
};
const files: Record<string,string[]> = {
  ws: ['package.json','package-lock.json','packages','packages/api','packages/api/package.json','packages/api/src','packages/api/src/index.js','packages/web','packages/web/package.json'],
  apkfile: ['packages.txt','build.sh'], aptfile: ['apt-packages.txt','Makefile'],
  maven: ['pom.xml','src','src/main','src/main/java','src/main/java/App.java'],
  args: ['go.mod','main.go'],
};
for (const [n, t] of Object.entries(cases)) {
  const ast = parse(t);
  const ds = runRules({ ast, stages: splitStages(ast), text: t, contextFiles: new Set([...(files[n] ?? []), '.dockerignore']), dockerignore: { path: '/c/.dockerignore', patterns: ['.git'] }, contextRoot: '/c', history: [] });
  console.log('==', n); for (const d of ds) console.log(d.range.start.line + 1, d.rule, d.severity, d.fixes.map(f => f.title).join(' | '), '::', d.message.slice(0, 160));
}
