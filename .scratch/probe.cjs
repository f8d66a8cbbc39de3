const fs=require("fs");
const types=process.argv.slice(2);
for (const t of types){const [pkg,mod,cls]=t.split(":");const rel=pkg==="aws"?mod:`${mod}/${cls[0].toLowerCase()+cls.slice(1)}`;
let f; try{f=fs.readFileSync(`node_modules/@pulumi/${pkg}/${rel}.d.ts`,"utf8")}catch(e){console.log(t,"NOFILE");continue}
const m=new RegExp(`export interface ${cls}Args \\{([\\s\\S]*?)\\n\\}`).exec(f);console.log(t, m? /\n\s*(readonly )?tags\?:/.test(m[1]):"NOARGS")}
